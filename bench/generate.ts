/**
 * Synthetic index-data for benchmarks and load tests: N valid entries with
 * realistic names, capabilities, adapters, tools, labels and pins,
 * deterministic for a seed. Usage: node dist/bench/generate.js DIR COUNT [SEED]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { IndexEntry, Label, Permission } from '../src/manifest/types.js';

export const CAPABILITIES = [
  'csv', 'json', 'xml', 'yaml', 'pdf', 'excel', 'parquet', 'markdown', 'html', 'rest', 'graphql', 'grpc', 'soap', 'sql',
  'postgres', 'mysql', 'sqlite', 'mongodb', 'redis', 'kafka', 'rabbitmq', 'nats', 'mqtt', 's3', 'gcs', 'azureblob',
  'filesystem', 'ftp', 'sftp', 'webdav', 'mail', 'mailread', 'mailsend', 'calendar', 'contacts', 'slack', 'teams',
  'discord', 'telegram', 'matrix', 'github', 'gitlab', 'bitbucket', 'jira', 'linear', 'confluence', 'notion', 'obsidian',
  'salesforce', 'hubspot', 'zendesk', 'stripe', 'paypal', 'shopify', 'woocommerce', 'sap', 'odoo', 'erpnext', 'bigquery',
  'snowflake', 'redshift', 'clickhouse', 'elasticsearch', 'opensearch', 'solr', 'vector', 'pinecone', 'qdrant', 'weaviate',
  'prometheus', 'grafana', 'loki', 'datadog', 'sentry', 'pagerduty', 'kubernetes', 'docker', 'terraform', 'ansible',
  'bash', 'powershell', 'browser', 'webfetch', 'websearch', 'rss', 'youtube', 'spotify', 'maps', 'weather', 'translate',
  'ocr', 'speech', 'image', 'video', 'audio', 'git', 'svn', 'ldap', 'oauth', 'vault', 'secrets', 'ssh', 'snmp',
  'modbus', 'opcua', 'homeassistant', 'zigbee', 'printer', 'scanner', 'barcode', 'invoice', 'ledger', 'crm', 'ticket',
];

export const ADAPTERS = ['localfs', 'http', 'smb', 'ssh', 'docker', 's3', 'gcs', 'imap', 'smtp', 'grpc', 'websocket', 'odbc', 'jdbc', 'nfs', 'sftp', 'serial', 'mqtt', 'amqp'];

const VARIANTS = ['fast', 'lite', 'pro', 'async', 'stream', 'arrow', 'pandas', 'polars', 'cloud', 'edge', 'secure', 'plus', 'mini', 'next', 'core'];

const STRATEGIES = ['base', 'router', 'planner', 'parallel', 'sequential', 'voting', 'fallback', 'cache'];

const WORDS = [
  'reads', 'writes', 'lists', 'queries', 'filters', 'summarizes', 'exports', 'imports', 'syncs', 'watches', 'records', 'tables',
  'documents', 'messages', 'events', 'files', 'folders', 'rows', 'columns', 'schemas', 'reports', 'invoices', 'tickets',
  'issues', 'users', 'accounts', 'orders', 'metrics', 'logs', 'traces', 'alerts', 'dashboards', 'streams', 'batches',
  'quickly', 'safely', 'incrementally', 'locally', 'remotely', 'with', 'for', 'from', 'into', 'over', 'the', 'model',
  'agent', 'assistant', 'structured', 'typed', 'paginated', 'cached', 'signed', 'encrypted', 'compressed', 'validated',
];

const PERMISSIONS: Permission[] = ['network', 'filesystem:read', 'filesystem:write', 'shell', 'secrets', 'autostart'];

/** mulberry32: a small deterministic generator, so every run measures the same data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Digits that no look-alike rule folds (0, 1 and 5 read as o, l and s), so generated names never collide as confusable. */
const SAFE_DIGITS = '2346789';

export function suffix(n: number): string {
  let out = '';
  do {
    out = SAFE_DIGITS[n % SAFE_DIGITS.length] + out;
    n = Math.floor(n / SAFE_DIGITS.length);
  } while (n > 0);
  return out;
}

export function hex(random: () => number, length: number): string {
  let out = '';
  while (out.length < length) out += Math.floor(random() * 0x100000000).toString(16).padStart(8, '0');
  return out.slice(0, length);
}

/** Entry i of a synthetic index: names are unique for every i. */
export function syntheticEntry(i: number, seed = 1): IndexEntry {
  const random = prng(seed * 1_000_003 + i);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const capability = pick(CAPABILITIES);
  const adapter = pick(ADAPTERS);
  const roll = random();
  const kind = roll < 0.7 ? 'driver' : roll < 0.8 ? 'tool-only' : roll < 0.9 ? 'adapter' : roll < 0.96 ? 'bundle' : 'orchestrator';
  const tail = `${pick(VARIANTS)}${suffix(i)}`;
  const base =
    kind === 'driver' ? `mcs-driver-${capability}-${tail}`
    : kind === 'tool-only' ? `mcs-driver-${capability}-toolonly-${tail}`
    : kind === 'adapter' ? `mcs-adapter-${adapter}-${tail}`
    : kind === 'bundle' ? `mcs-bundle-${capability}-${adapter}-${tail}`
    : `mcs-orchestrator-${pick(STRATEGIES)}-${tail}`;
  const ecosystem = random() < 0.7 ? 'npm' : 'pypi';
  const name = ecosystem === 'npm' && random() < 0.3 ? `@org${suffix(Math.floor(random() * 5000))}/${base}` : base;
  const labelRoll = random();
  const label: Label = labelRoll < 0.02 ? 'verified' : labelRoll < 0.05 ? 'reference' : 'community';
  const sentence = (n: number): string => Array.from({ length: n }, () => pick(WORDS)).join(' ');
  const versions: IndexEntry['versions'] = {};
  const versionCount = 1 + Math.floor(random() * 5);
  for (let v = 0; v < versionCount; v++) {
    const version = `${Math.floor(v / 3)}.${v % 3}.${Math.floor(random() * 10)}`;
    versions[version] =
      ecosystem === 'npm'
        ? { integrity: `sha512-${Buffer.from(hex(random, 128), 'hex').toString('base64')}`, size: 2000 + Math.floor(random() * 200_000), provenance: label === 'verified' }
        : { provenance: false, files: [{ filename: `${base.replace(/-/g, '_')}-${version}.tar.gz`, kind: 'sdist', integrity: `sha256-${Buffer.from(hex(random, 64), 'hex').toString('base64')}` }] };
  }
  const servesCapability = kind !== 'adapter' && kind !== 'orchestrator';
  const toolCount = kind === 'adapter' ? 0 : 2 + Math.floor(random() * 5);
  const tools = Array.from({ length: toolCount }, (_, t) => ({
    name: `${pick(['list', 'read', 'write', 'search', 'update', 'delete', 'summarize'])}_${capability}_${t}`,
    description: `${sentence(3)} ${capability} ${sentence(6)}`,
  }));
  const permissions = PERMISSIONS.filter(() => random() < 0.25);
  return {
    name,
    ecosystem,
    class: kind === 'driver' ? 'driver' : kind,
    description: `${capability.toUpperCase()} ${kind} that ${sentence(8)}.`,
    license: pick(['MIT', 'Apache-2.0', 'BSD-3-Clause']),
    ...(servesCapability || kind === 'orchestrator'
      ? {
          declarations: [{
            ...(Object.keys(versions).length > 0 ? { versions: Object.keys(versions) } : {}),
            drivers: [
            {
              kind: kind === 'orchestrator' ? 'orchestrator' : kind === 'tool-only' ? 'tool-driver' : 'driver',
              // a PyPI driver names its entry point, module:Class (drawn from no random number: the rest of the data is unchanged)
              ...(ecosystem === 'pypi' ? { export: `${base.replace(/-/g, '_')}:Driver` } : {}),
              meta: {
                id: `${hex(random, 8)}-${hex(random, 4)}-4${hex(random, 3)}-8${hex(random, 3)}-${hex(random, 12)}`,
                name: `${capability} ${kind}`,
                version: '1.0.0',
                bindings: [{ capability, adapter: random() < 0.3 ? '*' : adapter, spec_format: pick(['Custom', 'OpenAPI', 'JSON-Schema']) }],
                target_llms: kind === 'tool-only' ? null : ['*'],
                capabilities: pick([[], ['healthcheck'], ['tcs', 'healthcheck'], ['autostart']]),
              },
              tools,
            },
          ] }],
        }
      : {}),
    label: { value: label, by: 'bench', at: '2026-01-01T00:00:00Z', reason: 'synthetic' },
    versions,
    ...(permissions.length > 0 ? { security: { permissions, notes: [{ text: sentence(10) }] } } : {}),
  } as IndexEntry;
}

export function* syntheticEntries(count: number, seed = 1): Generator<IndexEntry> {
  for (let i = 0; i < count; i++) yield syntheticEntry(i, seed);
}

/** Writes `count` entries as index-data files under dir (<ecosystem>/<name>.json). */
export function writeSyntheticIndex(dir: string, count: number, seed = 1): void {
  writeEntries(dir, syntheticEntries(count, seed));
}

/** Writes entries as index-data files under dir (<ecosystem>/<name>.json). */
export function writeEntries(dir: string, entries: Iterable<IndexEntry>): void {
  const made = new Set<string>();
  for (const entry of entries) {
    const file = join(dir, entry.ecosystem, `${entry.name}.json`);
    const folder = file.slice(0, file.lastIndexOf('/'));
    if (!made.has(folder)) {
      mkdirSync(folder, { recursive: true });
      made.add(folder);
    }
    writeFileSync(file, JSON.stringify(entry, null, 1));
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [dir, count, seed] = process.argv.slice(2);
  if (!dir || !count) {
    process.stderr.write('usage: node dist/bench/generate.js DIR COUNT [SEED]\n');
    process.exit(2);
  }
  writeSyntheticIndex(dir, Number(count), seed ? Number(seed) : 1);
}
