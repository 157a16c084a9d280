import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { embeddedIndexDir } from '../../src/config.js';
import { McsError } from '../../src/errors.js';
import { readKey } from '../../src/files.js';
import type { ChangeAuthor } from '../../src/maintain/edit.js';
import type { Label, Permission } from '../../src/manifest/types.js';
import { LOG_FILE, type LogRecord } from '../../src/maintain/log.js';
import { trustFlags, writeTarget, type Context, type GlobalArgs } from '../context.js';
import { clean } from '../render.js';

export interface EditArgs extends GlobalArgs {
  name?: string;
  value?: string;
  spec?: string;
  reason?: string;
  by?: string;
  key?: string;
  release?: boolean;
  permission?: string[];
  none?: boolean;
  init?: boolean;
  upgrade?: boolean;
  previousRoot?: string[];
  registry?: string;
  indexUrl?: string;
  trustedRoot?: string;
  registryKeys?: string;
}

/** Who makes a change and why: the maintainer's key (--key, else MCS_PKG_MAINTAINER_KEY) signs it; --by only where the log is not signed. */
export function changeAuthor(args: { by?: string; reason?: string; key?: string }): ChangeAuthor {
  const keyFile = args.key ?? process.env.MCS_PKG_MAINTAINER_KEY;
  if (!args.reason || (!args.by && !keyFile)) throw new McsError('E_USAGE', 'every change of the index needs --reason TEXT and your maintainer key, --key FILE (or --by WHO for an index whose audit log is not signed); both go into the audit log', {});
  return { why: args.reason, ...(args.by ? { by: args.by } : {}), ...(keyFile ? { key: readKey(keyFile, 'private') } : {}) };
}
const author = changeAuthor;

function splitSpec(spec: string | undefined): { name: string; version: string } {
  const at = spec ? spec.lastIndexOf('@') : -1;
  if (!spec || at <= 0) throw new McsError('E_USAGE', `expected NAME@VERSION, got ${JSON.stringify(spec)}`, {});
  return { name: spec.slice(0, at), version: spec.slice(at + 1) };
}

function show(records: LogRecord[]): string {
  if (records.length === 0) return 'No change.';
  return records.map((r) => clean(`#${r.seq} ${r.at} ${r.by}: ${r.package} ${r.field}${r.version ? '@' + r.version : ''} ${JSON.stringify(r.before)} -> ${JSON.stringify(r.after)} (${r.why})`)).join('\n');
}

/** label | yank | deprecate | quarantine | permissions | log: every change goes through the audit log. */
export default async function edit(args: EditArgs, context: Context, action: 'label' | 'yank' | 'deprecate' | 'quarantine' | 'permissions' | 'log'): Promise<number> {
  const reads = action === 'log' && !args.init && !args.upgrade;
  const indexDir = reads ? (args.index ?? embeddedIndexDir()) : await writeTarget(args, `index ${action}${args.init ? ' --init' : args.upgrade ? ' --upgrade' : ''}`);
  const m = await import('../../src/maintain/edit.js');
  let records: LogRecord[];
  if (action === 'log') {
    if (args.init && args.upgrade) throw new McsError('E_USAGE', 'give --init or --upgrade, not both', {});
    if (!args.init && !args.upgrade && !existsSync(join(indexDir, LOG_FILE))) {
      context.out(context.json ? '[]' : `${indexDir} keeps no audit log yet; start one with mcs-pkg index log --init --index ${args.index ?? 'DIR'} --by WHO --reason TEXT`);
      return 0;
    }
    if (args.previousRoot && !args.upgrade) throw new McsError('E_USAGE', '--previous-root goes with --upgrade', {});
    records = args.init ? m.initLog(indexDir, author(args)) : args.upgrade ? m.upgradeLog(indexDir, author(args), { previousRoots: args.previousRoot ?? [] }) : m.packageLog(indexDir, args.name);
    if (args.upgrade && !context.json) {
      const vouched = (records.find((r) => r.field === 'signed')?.after as { vouched?: { count: number; first: number; last: number; signers: string[] } } | undefined)?.vouched;
      if (vouched) context.out(clean(`Vouches for ${vouched.count} record(s), #${vouched.first}-#${vouched.last}, by: ${vouched.signers.join('; ')}`));
    }
  } else if (action === 'yank' || action === 'deprecate') {
    const { name, version } = splitSpec(args.spec);
    records = (action === 'yank' ? m.yankVersion : m.deprecateVersion)(indexDir, name, version, author(args));
  } else if (action === 'permissions') {
    const wanted = args.permission ?? [];
    if (wanted.length === 0 && !args.none) throw new McsError('E_USAGE', 'name what the package needs with --permission TAG (repeatable), or declare nothing with --none', {});
    if (wanted.length > 0 && args.none) throw new McsError('E_USAGE', 'give --permission or --none, not both', {});
    records = m.setPermissions(indexDir, args.name!, wanted as Permission[], author(args));
  } else if (action === 'quarantine') {
    records = m.setQuarantine(indexDir, args.name!, !args.release, author(args));
  } else {
    if (!['verified', 'reference', 'community'].includes(args.value ?? '')) throw new McsError('E_USAGE', `the label is verified, reference or community, not ${JSON.stringify(args.value)}`, {});
    const { registryCheck } = await import('../../src/maintain/add.js');
    records = await m.setLabel(indexDir, args.name!, args.value as Label, author(args), registryCheck(indexDir, trustFlags(args)));
  }
  context.out(context.json ? JSON.stringify(records, null, 2) : show(records));
  return 0;
}
