/** A TUF repository with real signed metadata, served on 127.0.0.1 (deep imports: the package index loads nock). */
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { tufHandlers } from '@tufjs/repo-mock/dist/handler.js';
import { initializeTUFRepo } from '@tufjs/repo-mock/dist/repo.js';

export interface TufRepository {
  url: string;
  /** The repository's initial root.json, written to a file for the client to start from. */
  rootPath: string;
  /** Serve other bytes for a target than the ones the metadata signs. */
  tamper(target: string, content: string): void;
  close(): Promise<void>;
}

/** Starts a TUF repository serving `targets` (consistent snapshots off) on a loopback port. */
export async function startTufRepository(targets: Record<string, string>, dir: string): Promise<TufRepository> {
  const repo = initializeTUFRepo(Object.entries(targets).map(([name, content]) => ({ name, content })));
  const handlers = new Map(tufHandlers(repo, { metadataPathPrefix: '', targetPathPrefix: '/targets' }).map((h) => [h.path, h.fn]));
  const tampered = new Map<string, string>();
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0]!;
    const replaced = path.startsWith('/targets/') ? tampered.get(path.slice('/targets/'.length)) : undefined;
    if (replaced !== undefined) {
      response.writeHead(200, { 'content-type': 'application/octet-stream' }).end(replaced);
      return;
    }
    const handler = handlers.get(path);
    if (!handler) {
      response.writeHead(404).end();
      return;
    }
    const result = handler();
    response.writeHead(result.statusCode, { 'content-type': result.contentType ?? 'application/json' }).end(result.response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const rootPath = join(dir, 'tuf-root.json');
  writeFileSync(rootPath, JSON.stringify(repo.rootMeta.toJSON()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    rootPath,
    tamper: (target, content) => void tampered.set(target, content),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
