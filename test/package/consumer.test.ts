/**
 * The published package as a library user gets it: `npm pack` of the built
 * project, unpacked into a fresh consumer project whose node_modules holds
 * only mcs-pkg's runtime dependencies and @types/node (no devDependency, so
 * no @types/better-sqlite3). A consumer program calling the public functions,
 * and a file importing every name the entry point declares, compile with tsc
 * (strict, skipLibCheck off, NodeNext); the packed entry point imports at run
 * time, with exactly the values its declarations name, and answers.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, tempDir } from '../helpers/index-data.js';

const PROJECT = fileURLToPath(new URL('../../', import.meta.url));
const CONSUMER_SOURCE = fileURLToPath(new URL('../fixtures/consumer/index.ts', import.meta.url));
const TSC = join(PROJECT, 'node_modules', 'typescript', 'bin', 'tsc');

let work: string;
let consumer: string;
/** The names the packed entry point's declarations export: values, and types only. */
let declared: { values: string[]; types: string[] };

/** The names of `export { ... }` and `export type { ... }` statements (`A as B` exports B). */
function exportedNames(declarations: string): { values: string[]; types: string[] } {
  const names = { values: [] as string[], types: [] as string[] };
  for (const match of declarations.matchAll(/^export (type )?\{([^}]*)\}/gm)) {
    const list = match[2]!.split(',').map((part) => part.trim().split(/\s+as\s+/).pop()!).filter(Boolean);
    (match[1] ? names.types : names.values).push(...list);
  }
  return names;
}

function link(name: string): void {
  const target = join(consumer, 'node_modules', ...name.split('/'));
  mkdirSync(dirname(target), { recursive: true });
  symlinkSync(join(PROJECT, 'node_modules', ...name.split('/')), target, 'dir');
}

beforeAll(() => {
  work = tempDir('mcs-consumer-');
  consumer = join(work, 'consumer');
  const packed = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: PROJECT, encoding: 'utf8', env: { ...process.env, npm_config_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false' } })) as Array<{ filename: string }>;
  const installed = join(consumer, 'node_modules', 'mcs-pkg');
  mkdirSync(installed, { recursive: true });
  execFileSync('tar', ['-xzf', join(work, packed[0]!.filename), '-C', installed, '--strip-components=1']);
  const manifest = JSON.parse(readFileSync(join(PROJECT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  for (const name of Object.keys(manifest.dependencies)) link(name);
  link('@types/node');
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  writeFileSync(
    join(consumer, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { strict: true, skipLibCheck: false, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', lib: ['ES2022'], types: ['node'], noEmit: true }, files: ['index.ts', 'exports.ts'] }),
  );
  copyFileSync(CONSUMER_SOURCE, join(consumer, 'index.ts'));
  declared = exportedNames(readFileSync(join(installed, 'dist', 'src', 'index.d.ts'), 'utf8'));
  writeFileSync(join(consumer, 'exports.ts'), `import { ${declared.values.join(', ')} } from 'mcs-pkg';\nimport type { ${declared.types.join(', ')} } from 'mcs-pkg';\nexport const values: unknown[] = [${declared.values.join(', ')}];\n`);
}, 60_000);

afterAll(() => {
  if (work) removeDir(work);
});

describe('the packed package', () => {
  it('ships declarations a strict consumer compiles against without mcs-pkg devDependencies', () => {
    expect(declared.values).toEqual(expect.arrayContaining(['loadDriver', 'resolveDriver', 'updateIndex', 'listCache', 'cleanCache', 'verifyCache', 'DEFAULT_POLICY', 'resolvePolicy']));
    expect(declared.types).toEqual(expect.arrayContaining(['ResolveOptions', 'ResolvedPolicy', 'UpdateOptions', 'CacheListing']));
    let output = '';
    let code = 0;
    try {
      execFileSync(process.execPath, [TSC, '-p', consumer], { cwd: consumer, encoding: 'utf8' });
    } catch (error) {
      code = (error as { status: number }).status;
      output = String((error as { stdout?: string }).stdout ?? '') + String((error as { stderr?: string }).stderr ?? '');
    }
    expect(output).toBe('');
    expect(code).toBe(0);
  }, 60_000);

  it('imports at run time and resolves a query in the embedded index', () => {
    const script = `const m = await import('mcs-pkg');
const index = await m.openIndex();
const resolution = m.resolveDriver(index, 'pypi:mcs-driver-csv');
index.close();
console.log(JSON.stringify({ chosen: resolution.chosen?.name, ecosystem: resolution.chosen?.entry.ecosystem, values: Object.keys(m).sort(), policy: m.DEFAULT_POLICY.labels }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: consumer, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: work, MCS_PKG_CACHE: join(work, 'cache') } });
    expect(JSON.parse(out)).toEqual({ chosen: 'mcs-driver-csv', ecosystem: 'pypi', values: [...declared.values].sort(), policy: ['verified', 'reference'] });
  }, 60_000);
});
