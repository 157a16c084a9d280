import { basename } from 'node:path';
import { McsError } from '../../src/errors.js';
import type { KeylessIdentity } from '../../src/snapshot/metadata.js';
import { normalizeRepository } from '../../src/trust/identity.js';
import type { Context, GlobalArgs } from '../context.js';

const list = (value: string | string[] | undefined): string[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** A member is NAME=FILE, or FILE named by its base name (alice.pem.pub is alice): the name signs the audit log records as `by`. */
function member(spec: string): { file: string; name?: string } {
  const named = /^([A-Za-z0-9][A-Za-z0-9._@-]*)=(.+)$/.exec(spec);
  if (named) return { name: named[1]!, file: named[2]! };
  const name = basename(spec).replace(/(\.(pem|pub|key))+$/, '');
  return /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/.test(name) ? { file: spec, name } : { file: spec };
}

export const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';

interface RootArgs extends GlobalArgs {
  out?: string;
  previous?: string;
  member?: string | string[];
  sign?: string | string[];
  threshold?: number;
  snapshotThreshold?: number;
  keylessRepository?: string;
  keylessWorkflow?: string;
  keylessRef?: string;
  keylessIssuer?: string;
  keylessRepositoryId?: string;
  keylessOwnerId?: string;
  rootVersion?: number;
  expiresDays?: number;
}

function keylessFrom(args: RootArgs): KeylessIdentity[] {
  const given = [args.keylessRepository, args.keylessWorkflow, args.keylessRef].filter((value) => value !== undefined).length;
  if (given === 0) return [];
  if (given !== 3) throw new McsError('E_USAGE', 'a publishing workflow needs all of --keyless-repository OWNER/REPO, --keyless-workflow .github/workflows/FILE.yml and --keyless-ref REF', {});
  return [{
    issuer: args.keylessIssuer ?? GITHUB_ACTIONS_ISSUER,
    repository: normalizeRepository(args.keylessRepository!),
    workflow: args.keylessWorkflow!,
    ref: args.keylessRef!,
    ...(args.keylessRepositoryId !== undefined ? { repositoryId: String(args.keylessRepositoryId) } : {}),
    ...(args.keylessOwnerId !== undefined ? { ownerId: String(args.keylessOwnerId) } : {}),
  }];
}

export default async function indexRoot(args: RootArgs, context: Context): Promise<number> {
  const members = list(args.member).map(member);
  const signers = list(args.sign);
  if (!args.out || members.length === 0 || signers.length === 0 || args.threshold === undefined) {
    throw new McsError('E_USAGE', 'give --out root.json, --member KEY for each maintainer (public or private PEM), --threshold K and --sign KEY (a threshold of members; for a rotation, also of the previous root)', {});
  }
  const keyless = keylessFrom(args);
  const { writeIndexRoot } = await import('../../src/snapshot/maintainer.js');
  const { signed } = writeIndexRoot({
    out: args.out,
    members,
    signers,
    threshold: args.threshold,
    keyless,
    ...(args.snapshotThreshold !== undefined ? { snapshotThreshold: args.snapshotThreshold } : {}),
    ...(args.previous !== undefined ? { previous: args.previous } : {}),
    ...(args.rootVersion !== undefined ? { version: args.rootVersion } : {}),
    ...(args.expiresDays !== undefined ? { expiresDays: args.expiresDays } : {}),
  });
  const workflow = keyless[0] ? `, publishing workflow ${keyless[0].repository}/${keyless[0].workflow}@${keyless[0].ref}` : '';
  context.out(context.json ? JSON.stringify(signed, null, 2) : `Wrote ${args.out}: root version ${signed.version}, ${members.length} maintainer keys (threshold ${signed.roles.root.threshold})${workflow}; a snapshot needs ${signed.roles.snapshot.threshold} signature(s)`);
  return 0;
}
