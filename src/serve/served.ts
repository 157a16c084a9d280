/**
 * The index a server answers from, one snapshot at a time. A served index is
 * the opened database of one index folder, its audit history by package and
 * an id naming that exact state; every response is computed from one served
 * index, so it comes wholly from one snapshot. `update` switches an installed
 * index by renaming the `current` link to a new folder: the holder notices
 * the link now points elsewhere, opens (and, the first time, builds) the new
 * folder while requests go on being answered from the old one, then swaps.
 */
import { createHash } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { defaultIndexDir } from '../config.js';
import { openIndex, type McsIndex, type OpenIndexOptions } from '../index/store.js';
import type { LogRecord } from '../maintain/log.js';
import { indexRootOf, logKeysOf, scanIndexLog } from '../maintain/log-file.js';
import { readSignedMetadata, type IndexFreshness, type SignedMetadataFile } from '../snapshot/installed.js';

export interface ServedIndex {
  index: McsIndex;
  /** Names this state of the index: the folder, the database built from it, the snapshot version. Changes whenever any of them does. */
  id: string;
  /** Audit log records by package id (ecosystem:name), chain and signatures checked when the folder keeps its root. */
  history: ReadonlyMap<string, readonly LogRecord[]>;
  /** Signed snapshot.json and root.json as `update` received them; absent for an index it did not install. */
  signed: Partial<Record<SignedMetadataFile, Buffer>>;
  freshness(now?: Date): IndexFreshness;
}

/** Opens one state of an index folder and reads what its responses need. */
async function openServed(realDir: string, options: OpenIndexOptions): Promise<ServedIndex> {
  const index = await openIndex({ ...options, indexDir: realDir });
  try {
    const history = new Map<string, LogRecord[]>();
    const root = indexRootOf(realDir);
    scanIndexLog(realDir, {
      ...(root ? { keys: logKeysOf(root.root) } : {}),
      keep: (record) => {
        const list = history.get(record.package) ?? [];
        list.push(record);
        history.set(record.package, list);
        return false;
      },
    });
    const signed: ServedIndex['signed'] = {};
    for (const name of ['snapshot.json', 'root.json'] as const) {
      const bytes = readSignedMetadata(realDir, name);
      if (bytes) signed[name] = bytes;
    }
    const version = index.status.snapshot?.version ?? null;
    const digest = createHash('sha256').update(`${index.status.indexDir}\0${index.status.database}\0${index.status.builtAt ?? ''}\0${version ?? ''}`).digest('hex').slice(0, 16);
    return { index, id: version === null ? digest : `${version}-${digest}`, history, signed, freshness: (now) => index.freshness(now) };
  } catch (error) {
    index.close();
    throw error;
  }
}

/**
 * Holds the served index of a folder (a path that may be a link, as the
 * installed index's `current` is) and replaces it when the link points to
 * another folder. Only one switch runs at a time; requests that arrive
 * meanwhile are answered from the index being replaced.
 */
export class ServedHolder {
  private current: { realDir: string; served: ServedIndex } | undefined;
  private switching: Promise<ServedIndex> | undefined;

  constructor(
    private readonly options: OpenIndexOptions = {},
  ) {}

  /** The configured folder as a path: the one given, else the installed index or the embedded one (decided again each time, so a first `update` is picked up). */
  private folder(): string {
    return resolve(this.options.indexDir ?? defaultIndexDir(this.options.cacheDir));
  }

  /**
   * The index to answer one request from: synchronously whenever one is open
   * (the caller must use it before yielding, since a switch closes the old
   * one), a promise only before the first one is.
   */
  get(): ServedIndex | Promise<ServedIndex> {
    const given = this.folder();
    const realDir = existsSync(given) ? realpathSync(given) : given;
    if (this.current && this.current.realDir === realDir) return this.current.served;
    if (this.switching) return this.current ? this.current.served : this.switching;
    this.switching = openServed(realDir, this.options).then(
      (served) => {
        const old = this.current;
        this.current = { realDir, served };
        this.switching = undefined;
        // get() hands out an open index synchronously and responses are computed without yielding, so none is still reading the old one
        old?.served.index.close();
        return served;
      },
      (error: unknown) => {
        this.switching = undefined;
        throw error;
      },
    );
    return this.current ? this.current.served : this.switching;
  }

  close(): void {
    this.current?.served.index.close();
    this.current = undefined;
  }
}
