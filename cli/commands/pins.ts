import { McsError } from '../../src/errors.js';
import { openCliIndex, warnIfExpired, type Context, type GlobalArgs } from '../context.js';
import { clean } from '../render.js';

interface PinsArgs extends GlobalArgs {
  spec: string;
  format?: 'list' | 'requirements';
}

/** pins: a version's pins from the index, listed, or as a pip requirements file with hashes (PyPI). */
export default async function pins(args: PinsArgs, context: Context): Promise<number> {
  const at = args.spec.lastIndexOf('@');
  if (at <= 0 || at === args.spec.length - 1 || args.spec[at - 1] === ':') {
    throw new McsError('E_USAGE', `expected NAME@VERSION (for example pypi:mcs-driver-csv@0.1.4), got ${JSON.stringify(args.spec)}`, { details: { spec: args.spec } });
  }
  const index = await openCliIndex(args, context);
  try {
    const { entry } = index.getPackage(args.spec.slice(0, at));
    warnIfExpired(index.freshness(), context);
    const { pinnedVersion, requirementsFile } = await import('../../src/pypi/requirements.js');
    if (args.format === 'requirements') {
      const text = requirementsFile(entry, args.spec.slice(at + 1));
      context.out(context.json ? JSON.stringify({ package: `${entry.ecosystem}:${entry.name}`, requirements: text }, null, 2) : text.trimEnd());
      return 0;
    }
    const { version, record } = pinnedVersion(entry, args.spec.slice(at + 1));
    if (context.json) {
      context.out(JSON.stringify({ package: `${entry.ecosystem}:${entry.name}`, version, pins: record }, null, 2));
      return 0;
    }
    const files = record.integrity ? [`${entry.name}-${version}.tgz ${record.integrity} ${record.size ?? '?'} bytes`] : (record.files ?? []).map((f) => `${f.filename} ${f.integrity} ${f.size ?? '?'} bytes${f.provenance ?? record.provenance ? ' (provenance)' : ''}`);
    const locked = (record.lock?.dependencies ?? []).map((d) => `  ${d.name}==${d.version}${d.marker ? ` ; ${d.marker}` : ''}: ${d.files.map((f) => `${f.filename} ${f.integrity}`).join(', ')}`);
    context.out(
      [
        `${entry.ecosystem}:${entry.name}@${version}${record.yanked ? ` (yanked: ${record.yanked.reason})` : ''}`,
        ...files.map((f) => `  ${f}`),
        ...(record.lock ? [`lock${record.lock.python ? ` (Python ${record.lock.python})` : ''}: ${record.lock.dependencies.length} dependencies`, ...locked] : entry.ecosystem === 'pypi' ? ['no dependency lock'] : []),
      ]
        .map((l) => clean(l))
        .join('\n'),
    );
    return 0;
  } finally {
    index.close();
  }
}
