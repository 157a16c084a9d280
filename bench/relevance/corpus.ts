/**
 * The relevance corpus: synthetic drivers written from the topics of
 * vocabulary.ts in many phrasings (descriptions from templates, tool names in
 * snake_case, camelCase, dotted and kebab styles, parameters), plus the real
 * entries of the embedded index. Each package carries the topic it is about,
 * which the judged queries grade; the topic is not part of what is indexed.
 * Deterministic for a seed. Usage: node dist/bench/relevance/corpus.js DIR COUNT [SEED]
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { IndexEntry, Label, Permission, Tool } from '../../src/manifest/types.js';
import { hex, prng, suffix, writeEntries } from '../generate.js';
import { DESCRIPTION_TEMPLATES, FILLER, TOPICS, VARIANTS, type Topic } from './vocabulary.js';

export interface CorpusEntry {
  entry: IndexEntry;
  /** What the package is about, in the judged set's terms. */
  topic: string;
}

/** The topics of the real embedded entries, judged by reading each one. */
export const REAL_TOPICS: Readonly<Record<string, string>> = {
  'mcs-adapter-http': 'adapter-http',
  'mcs-adapter-localfs': 'adapter-fs',
  'mcs-adapter-smb': 'adapter-smb',
  'mcs-driver-core': 'contract',
  'mcs-driver-csv': 'csv',
  'mcs-driver-filesystem': 'filesystem',
  'mcs-driver-mail': 'email-both',
  'mcs-driver-mailread': 'email-read',
  'mcs-driver-mailsend': 'email-send',
  'mcs-driver-rest': 'rest-api',
  'mcs-orchestrator-base': 'orchestrator',
  'mcs-orchestrator-rest': 'rest-orchestrator',
};

export const EMBEDDED_INDEX_DIR = fileURLToPath(new URL('../../../index-data', import.meta.url));

const PERMISSIONS: Permission[] = ['network', 'filesystem:read', 'filesystem:write', 'shell', 'secrets'];

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** A tool name in one of the styles drivers use. */
function toolName(verb: string, object: string, style: number): string {
  const parts = [...verb.split(/[_ ]/), ...object.split(/[_ ]/)];
  switch (style) {
    case 0: return parts.join('_');
    case 1: return parts[0] + parts.slice(1).map(capitalize).join('');
    case 2: return `${object}.${verb}`;
    default: return parts.join('-');
  }
}

function description(topic: Topic, pick: <T>(list: readonly T[]) => T, random: () => number): string {
  const verbs = [pick(topic.verbs), pick(topic.verbs)];
  const nouns = [pick(topic.nouns), pick(topic.nouns)];
  const sentence = pick(DESCRIPTION_TEMPLATES)
    .replace('{P}', pick(topic.products))
    .replace('{V!}', capitalize(verbs[0]!))
    .replace('{N!}', capitalize(nouns[0]!))
    .replace('{V}', verbs[0]!)
    .replace('{V2}', verbs[1]!)
    .replace(/\{N\}/g, nouns[0]!)
    .replace('{N2}', nouns[1]!);
  return random() < 0.6 ? `${sentence} ${pick(FILLER)}`.trim() : sentence;
}

/** Synthetic package i: names are unique for every i. */
export function corpusEntry(i: number, seed = 7): CorpusEntry {
  const random = prng(seed * 2_000_003 + i);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const topic = pick(TOPICS);
  const part = pick(topic.names);
  const second = random() < 0.25 ? `-${pick(topic.names)}` : '';
  const base = `mcs-driver-${part}${second === `-${part}` ? '' : second}-${pick(VARIANTS)}${suffix(i)}`;
  const ecosystem = random() < 0.65 ? 'npm' : 'pypi';
  const name = ecosystem === 'npm' && random() < 0.25 ? `@team${suffix(Math.floor(random() * 3000))}/${base}` : base;
  const labelRoll = random();
  const label: Label = labelRoll < 0.03 ? 'verified' : labelRoll < 0.06 ? 'reference' : 'community';
  const style = Math.floor(random() * 4);
  const toolCount = 1 + Math.floor(random() * 5);
  const tools: Tool[] = Array.from({ length: toolCount }, () => {
    const verb = pick(topic.toolVerbs);
    const object = pick(topic.toolObjects);
    const parameters = topic.params.filter(() => random() < 0.5).map(([param, meaning]) => ({ name: param, description: capitalize(meaning) + '.' }));
    const said = random() < 0.5 ? `${capitalize(verb)} ${object.replace(/_/g, ' ')} in ${pick(topic.products)}.` : `${capitalize(pick(topic.verbs))} ${pick(topic.nouns)}.`;
    return { name: toolName(verb, object, style), description: said, ...(parameters.length > 0 ? { parameters } : {}) };
  });
  const uniqueTools = [...new Map(tools.map((t) => [t.name, t])).values()];
  const version = `${Math.floor(random() * 3)}.${Math.floor(random() * 10)}.${Math.floor(random() * 10)}`;
  const versions: IndexEntry['versions'] =
    ecosystem === 'npm'
      ? { [version]: { integrity: `sha512-${Buffer.from(hex(random, 128), 'hex').toString('base64')}`, size: 5000 + Math.floor(random() * 100_000), provenance: label !== 'community' } }
      : { [version]: { provenance: false, files: [{ filename: `${base.replace(/-/g, '_')}-${version}.tar.gz`, kind: 'sdist', integrity: `sha256-${Buffer.from(hex(random, 64), 'hex').toString('base64')}` }] } };
  const permissions = PERMISSIONS.filter(() => random() < 0.2);
  const capability = part.replace(/[^a-z0-9]/g, '') || topic.id.replace(/[^a-z]/g, '');
  const entry = {
    name,
    ecosystem,
    class: 'driver',
    description: description(topic, pick, random),
    license: pick(['MIT', 'Apache-2.0', 'BSD-3-Clause', 'MPL-2.0']),
    ...(random() < 0.3 ? { keywords: [...new Set([pick(topic.nouns), pick(topic.products)].map((k) => k.toLowerCase()))] } : {}),
    declarations: [{
      versions: [version],
      drivers: [{
        kind: 'driver',
        // a PyPI driver names its entry point, module:Class (drawn from no random number: the rest of the data is unchanged)
        ...(ecosystem === 'pypi' ? { export: `${base.replace(/-/g, '_')}:Driver` } : {}),
        meta: {
          id: `${hex(random, 8)}-${hex(random, 4)}-4${hex(random, 3)}-8${hex(random, 3)}-${hex(random, 12)}`,
          name: `${pick(topic.products)} ${pick(['driver', 'connector', 'tools', 'bridge'])}`,
          version,
          bindings: [{ capability, adapter: random() < 0.5 ? '*' : pick(['http', 'localfs', 'ssh', 'imap', 'smtp', 'odbc']), spec_format: pick(['Custom', 'OpenAPI', 'JSON-Schema']) }],
          target_llms: ['*'],
          capabilities: pick([[], ['healthcheck'], ['tcs', 'healthcheck']]),
        },
        tools: uniqueTools,
      }],
    }],
    label: { value: label, by: 'bench', at: '2026-01-01T00:00:00Z', reason: 'synthetic' },
    versions,
    ...(permissions.length > 0 ? { security: { permissions, notes: [{ text: `Needs ${permissions.join(' and ')} to ${pick(topic.verbs)} ${pick(topic.nouns)}.` }] } } : {}),
  } as IndexEntry;
  return { entry, topic: topic.id };
}

/** The real entries of the embedded index, with their judged topics. */
export function realEntries(indexDir = EMBEDDED_INDEX_DIR): CorpusEntry[] {
  const out: CorpusEntry[] = [];
  for (const ecosystem of ['npm', 'pypi']) {
    let files: string[] = [];
    try {
      files = readdirSync(join(indexDir, ecosystem)).filter((f) => f.endsWith('.json'));
    } catch {
      continue;
    }
    for (const file of files) {
      const entry = JSON.parse(readFileSync(join(indexDir, ecosystem, file), 'utf8')) as IndexEntry;
      out.push({ entry, topic: REAL_TOPICS[entry.name] ?? 'unjudged' });
    }
  }
  return out;
}

/** Writes the corpus (synthetic entries and the real ones) as index-data under dir; returns name -> topic. */
export function writeCorpus(dir: string, count: number, seed = 7): Map<string, string> {
  const all = [...realEntries(), ...Array.from({ length: count }, (_, i) => corpusEntry(i, seed))];
  writeEntries(dir, all.map((c) => c.entry));
  return new Map(all.map((c) => [c.entry.name, c.topic]));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [dir, count, seed] = process.argv.slice(2);
  if (!dir || !count) {
    process.stderr.write('usage: node dist/bench/relevance/corpus.js DIR COUNT [SEED]\n');
    process.exit(2);
  }
  writeCorpus(dir, Number(count), seed ? Number(seed) : 7);
}
