import { createInterface } from 'node:readline/promises';
import { McsError } from '../../src/errors.js';
import { repositoryPublisher, type IndexEntry } from '../../src/manifest/types.js';
import { trustFlags, writeTarget, type Context, type GlobalArgs } from '../context.js';
import { clean } from '../render.js';

interface AddArgs extends GlobalArgs {
  spec: string;
  reason?: string;
  by?: string;
  key?: string;
  yes?: boolean;
  maxVersions?: number;
  registry?: string;
  indexUrl?: string;
  trustedRoot?: string;
  registryKeys?: string;
}

function describeDraft(entry: IndexEntry): string {
  const versions = Object.entries(entry.versions);
  const publisher = repositoryPublisher(entry.trust?.publisher);
  return [
    clean(`${entry.name} (${entry.class}): ${entry.description}`),
    clean(`  publisher  ${publisher ? `${publisher.repository} ${publisher.workflow}${publisher.ref ? ` ${publisher.ref}` : ''} (issuer ${publisher.issuer})` : 'none: no version has provenance'}`),
    clean(`  versions   ${versions.map(([v, r]) => `${v}${r.provenance ? '' : ' (no provenance)'}${r.lock ? ` (lock: ${r.lock.dependencies.map((d) => `${d.name}==${d.version}`).join(', ') || 'no dependencies'})` : ''}`).join(', ')}`),
    ...(entry.declarations ?? []).map((declaration) =>
      clean(`  drivers    ${(declaration.versions ?? []).join(', ')}: ${declaration.drivers.map((d) => `${d.meta.name} ${d.meta.version} [${d.meta.bindings.map((b) => `${b.capability}/${b.adapter}`).join(', ')}]`).join('; ')}`),
    ),
    `  label      community`,
  ].join('\n');
}

/** index add: registry -> verified, pinned draft -> confirmation -> index-data file and audit log. */
export default async function add(args: AddArgs, context: Context): Promise<number> {
  const { changeAuthor } = await import('./index-edit.js');
  const author = changeAuthor(args);
  if (!args.yes && !process.stdin.isTTY) throw new McsError('E_USAGE', 'index add shows the draft and asks before writing, which needs an interactive terminal; without one, pass --yes to write without asking', {});
  const indexDir = await writeTarget(args, 'index add');
  const { addFromRegistry } = await import('../../src/maintain/add.js');
  context.err(`Reading and verifying ${args.spec} from the registry...`);
  const result = await addFromRegistry(indexDir, args.spec, author, {
    ...trustFlags(args),
    ...(args.maxVersions !== undefined ? { maxVersions: args.maxVersions } : {}),
    confirm: async (draft, warnings) => {
      for (const warning of warnings) context.err(clean(`warning: ${warning}`));
      if (args.yes) return true;
      context.err(describeDraft(draft));
      const prompt = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return /^y(es)?$/i.test((await prompt.question('Pin this publisher and write the entry? [y/N] ')).trim());
      } finally {
        prompt.close();
      }
    },
  });
  if (context.json) context.out(JSON.stringify({ written: result.written, entry: result.entry, records: result.records, warnings: result.warnings }, null, 2));
  else context.out(result.written ? `${describeDraft(result.entry)}\nWritten to ${indexDir}/${result.entry.ecosystem}/${result.entry.name}.json; ${result.records.length} audit log records.` : 'Nothing was written.');
  return result.written ? 0 : 1;
}
