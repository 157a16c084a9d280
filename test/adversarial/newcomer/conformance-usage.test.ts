/** The conformance runner pointed at a folder that holds no case is a usage error, not "0 passed, N failed". */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runConformance } from '../../../src/conformance/run.js';
import { tempDir } from '../../helpers/index-data.js';
import '../../helpers/matchers.js';

const RUNNER = fileURLToPath(new URL('../../../dist/src/conformance/run.js', import.meta.url));

describe('npm run conformance -- DIR', () => {
  it('exits 2 with a usage message naming where the data is, for a folder of unrelated folders', () => {
    const dir = tempDir('mcs-conformance-usage-');
    for (const name of ['a', 'b_fail', 'c']) mkdirSync(join(dir, name));
    writeFileSync(join(dir, 'a', 'notes.txt'), 'not a case');
    expect(() => runConformance(dir)).toThrowWithCode('E_USAGE');
    const run = spawnSync(process.execPath, [RUNNER, dir], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status).toBe(2);
    expect(run.stdout).not.toMatch(/passed/);
    expect(run.stderr).toContain('sigstore-bundle-verify');
  });
});
