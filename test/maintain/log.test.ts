/** The audit log: every change is logged, and a changed, removed or bypassed record is caught by validate. */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { validateIndexDir } from '../../src/index/build.js';
import { LOG_LOCK_WAIT_MS, initLog, loadLog, packageLog, recordNewEntry, setLabel, setQuarantine, upgradeLog, yankVersion } from '../../src/maintain/edit.js';
import { LOG_FILE, appendLines } from '../../src/maintain/log.js';
import { SAMPLE_SHA512, npmDriver, tempDir, writeEntry } from '../helpers/index-data.js';

const who = { by: 'alice', why: 'review 42' };
let dir: string;

beforeEach(() => {
  dir = tempDir('mcs-log-');
  writeEntry(dir, npmDriver('mcs-driver-csv', {
    trust: { publisher: { issuer: 'https://token.actions.githubusercontent.com', repository: 'https://github.com/acme/csv', workflow: '.github/workflows/release.yml' } },
    versions: { '1.0.0': { integrity: SAMPLE_SHA512, size: 10, provenance: true }, '1.1.0': { integrity: SAMPLE_SHA512, size: 10, provenance: true } },
  }));
  writeEntry(dir, npmDriver('mcs-driver-rest'));
  initLog(dir, { by: 'alice', why: 'start the log' });
});

const codes = () => validateIndexDir(dir).problems.map((p) => p.code);

describe('the audit log', () => {
  it('explains an index whose every change went through it', () => {
    expect(codes()).toEqual([]);
    yankVersion(dir, 'mcs-driver-csv', '1.0.0', who);
    setQuarantine(dir, 'npm:mcs-driver-rest', true, { by: 'sec', why: 'report 7' });
    setQuarantine(dir, 'npm:mcs-driver-rest', false, { by: 'sec', why: 'report 7 closed' });
    expect(codes()).toEqual([]);
    const { records } = loadLog(dir);
    expect(records.slice(-3).map((r) => `${r.package} ${r.field}${r.version ? '@' + r.version : ''} ${JSON.stringify(r.before)} -> ${JSON.stringify(r.after)} by ${r.by}`)).toEqual([
      'npm:mcs-driver-csv yanked@1.0.0 null -> "review 42" by alice',
      'npm:mcs-driver-rest quarantine null -> "report 7" by sec',
      'npm:mcs-driver-rest quarantine "report 7" -> null by sec',
    ]);
  });

  it('catches a record changed after the fact', () => {
    yankVersion(dir, 'mcs-driver-csv', '1.0.0', who);
    const file = join(dir, LOG_FILE);
    writeFileSync(file, readFileSync(file, 'utf8').replace('"by":"alice","field":"label"', '"by":"mallory","field":"label"'));
    expect(codes()).toEqual(['E_LOG_CHAIN']);
  });

  it('refuses a record with a repeated key or nesting too deep to write, as a broken chain, and a line over the cap as too large', () => {
    const file = join(dir, LOG_FILE);
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    const last = lines[lines.length - 1]!;
    for (const [bad, code] of [[last.replace('{"after"', '{"by":"mallory","after"'), 'E_LOG_CHAIN'], [`{"x":${'['.repeat(200_000)}${']'.repeat(200_000)}}`, 'E_LOG_CHAIN'], [`{"x":"${'a'.repeat(1024 * 1024)}"}`, 'E_LOG_TOO_LARGE']]) {
      writeFileSync(file, [...lines.slice(0, -1), bad].join('\n') + '\n');
      expect(codes(), bad!.slice(0, 40)).toEqual([code]);
    }
  });

  it('catches a record removed', () => {
    yankVersion(dir, 'mcs-driver-csv', '1.0.0', who);
    const file = join(dir, LOG_FILE);
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    lines.splice(1, 1);
    writeFileSync(file, lines.join('\n') + '\n');
    expect(codes()).toEqual(['E_LOG_CHAIN']);
  });

  it('catches a hand edit of a label that bypassed the log', () => {
    const file = join(dir, 'npm', 'mcs-driver-rest.json');
    const entry = JSON.parse(readFileSync(file, 'utf8'));
    entry.label = { ...entry.label, value: 'verified' };
    writeFileSync(file, JSON.stringify(entry, null, 2));
    const problems = validateIndexDir(dir).problems;
    // the entry alone shows it is no Verified package (no publisher, no provenance), and the log never said so
    expect(problems.map((p) => p.code)).toEqual(['E_LABEL_REQUIREMENTS', 'E_LOG_UNEXPLAINED']);
    expect(problems[1]!.message).toContain('npm:mcs-driver-rest: label is "verified", but the audit log says "community"');
  });

  it('catches a package added without the log, and will not change it until it is logged', () => {
    writeEntry(dir, npmDriver('mcs-driver-xml'));
    expect(codes()).toEqual(['E_LOG_UNEXPLAINED']);
    const file = join(dir, 'npm', 'mcs-driver-xml.json');
    const before = readFileSync(file, 'utf8');
    expect(() => setQuarantine(dir, 'mcs-driver-xml', true, who)).toThrowWithCode('E_LOG_UNEXPLAINED');
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('catches a logged package whose file was removed by hand, and still shows its history', () => {
    rmSync(join(dir, 'npm', 'mcs-driver-rest.json'));
    expect(packageLog(dir, 'mcs-driver-rest').map((r) => r.package)).toContain('npm:mcs-driver-rest');
    const problems = validateIndexDir(dir).problems;
    expect(problems.map((p) => p.code)).toEqual(['E_LOG_UNEXPLAINED']);
    expect(problems[0]!.message).toBe('npm:mcs-driver-rest: in the audit log, but its file is gone (a removal that bypassed the log)');
  });

  it('counts a missing log as a problem, so deleting it does not silence validate', () => {
    rmSync(join(dir, LOG_FILE));
    const problems = validateIndexDir(dir).problems;
    expect(problems.map((p) => p.code)).toEqual(['E_LOG_UNEXPLAINED']);
    expect(problems[0]!.message).toMatch(/no audit log \(audit\.log\.jsonl\)/);
  });

  it('lets a hand-written entry join an existing log only as Community (a label goes through index label)', () => {
    writeEntry(dir, { ...npmDriver('mcs-driver-xml'), label: { value: 'verified', by: 'mallory', at: '2026-01-01T00:00:00Z', reason: 'trust me' } });
    const logBefore = readFileSync(join(dir, LOG_FILE), 'utf8');
    expect(() => initLog(dir, who)).toThrowWithCode('E_LABEL_REQUIREMENTS');
    expect(readFileSync(join(dir, LOG_FILE), 'utf8')).toBe(logBefore);
    writeEntry(dir, npmDriver('mcs-driver-xml'));
    expect(initLog(dir, who).map((r) => r.package)).toContain('npm:mcs-driver-xml');
    expect(codes()).toEqual([]);
  });

  it('catches a hand edit of what bears on trust beyond labels and pins: provenance, size, trust, drivers, security', () => {
    const file = join(dir, 'npm', 'mcs-driver-csv.json');
    const original = readFileSync(file, 'utf8');
    const edits: Array<[string, (entry: any) => void]> = [
      ['record@1.0.0', (e) => (e.versions['1.0.0'].provenance = false)],
      ['record@1.1.0', (e) => (e.versions['1.1.0'].size = 11)],
      ['trust', (e) => (e.trust.repository = 'https://github.com/mallory/csv')],
      // 1.1.0 alone now declares another driver
      ['drivers@1.1.0', (e) => {
        e.declarations[0].versions = ['1.0.0'];
        e.declarations.push({ versions: ['1.1.0'], drivers: [{ ...e.declarations[0].drivers[0], meta: { ...e.declarations[0].drivers[0].meta, name: 'Another driver' } }] });
      }],
      ['security', (e) => (e.security = { permissions: [] })],
    ];
    for (const [key, edit] of edits) {
      const entry = JSON.parse(original);
      edit(entry);
      writeFileSync(file, JSON.stringify(entry, null, 2));
      const problems = validateIndexDir(dir).problems;
      expect(problems.map((p) => p.code), key).toEqual(['E_LOG_UNEXPLAINED']);
      expect(problems[0]!.message, key).toContain(`npm:mcs-driver-csv: ${key} is `);
    }
    writeFileSync(file, original);
    expect(codes()).toEqual([]);
  });

  it('a log started by its first entry guards every field from the start, even fields still empty everywhere', () => {
    const fresh = join(dir, 'fresh-index');
    recordNewEntry(fresh, npmDriver('mcs-driver-xml', { versions: { '1.0.0': { integrity: SAMPLE_SHA512, size: 10, provenance: false } } }), who);
    const file = join(fresh, 'npm', 'mcs-driver-xml.json');
    const entry = JSON.parse(readFileSync(file, 'utf8'));
    entry.quarantine = { reason: 'hand-set' };
    entry.versions['1.0.0'].yanked = { reason: 'hand-set' };
    writeFileSync(file, JSON.stringify(entry, null, 2));
    const problems = validateIndexDir(fresh).problems;
    expect(problems.map((p) => p.message)).toEqual([expect.stringContaining('quarantine is "hand-set", but the audit log says null (an edit that bypassed the log)'), expect.stringContaining('yanked@1.0.0 is "hand-set"')]);
    expect(upgradeLog(fresh, who)).toEqual([]); // nothing for --upgrade to launder
  });

  it('after an upgrade that tracks more, --upgrade records the new fields once; hand edits after that are edits', () => {
    // a log written before record@, trust, drivers, compatibility and security were tracked
    const file = join(dir, LOG_FILE);
    const old = loadLog(dir).records.filter((r) => r.package !== '*' && ['label', 'publisher', 'pin', 'quarantine', 'yanked', 'deprecated'].includes(r.field));
    writeFileSync(file, appendLines(undefined, 0, old.map(({ seq: _s, prev: _p, ...rest }) => rest)).join('\n') + '\n');
    const before = validateIndexDir(dir).problems;
    expect(before.length).toBeGreaterThan(0);
    expect(before.every((p) => /the audit log has never recorded (record|trust|drivers|compatibility|security)/.test(p.message))).toBe(true);
    expect(() => yankVersion(dir, 'mcs-driver-csv', '1.0.0', who)).toThrowWithCode('E_LOG_UNEXPLAINED');
    const upgraded = upgradeLog(dir, { by: 'alice', why: 'mcs-pkg upgrade, values reviewed' });
    const marked = upgraded.filter((r) => r.package === '*').map((r) => r.field);
    expect(marked.sort()).toEqual(['compatibility', 'drivers', 'record', 'security', 'trust']); // what the older log did not track
    expect(codes()).toEqual([]);
    expect(upgradeLog(dir, who)).toEqual([]); // nothing left to adopt
    const csv = join(dir, 'npm', 'mcs-driver-csv.json');
    const entry = JSON.parse(readFileSync(csv, 'utf8'));
    entry.compatibility = { llms: ['any'] }; // was empty for every package, yet tracked now
    writeFileSync(csv, JSON.stringify(entry, null, 2));
    expect(validateIndexDir(dir).problems.map((p) => p.message)).toEqual([expect.stringContaining('compatibility is {"llms":["any"]}, but the audit log says null (an edit that bypassed the log)')]);
  });

  it('refuses a change on top of a hand edit: the change is not made and the log does not grow', () => {
    const file = join(dir, 'npm', 'mcs-driver-rest.json');
    const entry = JSON.parse(readFileSync(file, 'utf8'));
    entry.label = { ...entry.label, value: 'verified' };
    writeFileSync(file, JSON.stringify(entry, null, 2));
    const logBefore = readFileSync(join(dir, LOG_FILE), 'utf8');
    expect(() => setQuarantine(dir, 'mcs-driver-rest', true, who)).toThrowWithCode('E_LOG_UNEXPLAINED');
    expect(readFileSync(join(dir, LOG_FILE), 'utf8')).toBe(logBefore);
    expect(JSON.parse(readFileSync(file, 'utf8')).quarantine).toBeUndefined();
  });
});

describe('one change at a time', () => {
  it('waits for a live lock and then gives up with E_LOG_LOCKED, changing nothing; a lock left by a dead process is taken over', () => {
    const lock = join(dir, 'audit.log.lock');
    const file = join(dir, 'npm', 'mcs-driver-rest.json');
    const [entryBefore, logBefore] = [readFileSync(file, 'utf8'), readFileSync(join(dir, LOG_FILE), 'utf8')];
    writeFileSync(lock, `${process.ppid} someone-else\n`); // held by a live process (the test runner)
    const started = Date.now();
    expect(() => setQuarantine(dir, 'mcs-driver-rest', true, who)).toThrowWithCode('E_LOG_LOCKED');
    expect(Date.now() - started).toBeGreaterThanOrEqual(LOG_LOCK_WAIT_MS - 100);
    expect([readFileSync(file, 'utf8'), readFileSync(join(dir, LOG_FILE), 'utf8')]).toEqual([entryBefore, logBefore]);
    writeFileSync(lock, '2147483646\n'); // a pid no process has
    expect(setQuarantine(dir, 'mcs-driver-rest', true, who)).toHaveLength(1);
    expect(existsSync(lock)).toBe(false);
    writeFileSync(lock, `${process.pid} an-earlier-run\n`); // this pid, left by an earlier run (a container restarts with the same pid)
    expect(setQuarantine(dir, 'mcs-driver-rest', false, who)).toHaveLength(1);
    expect(existsSync(lock)).toBe(false);
    expect(codes()).toEqual([]);
  });

  it('never creates a mistyped index folder', () => {
    const missing = join(dir, 'no-such-index');
    expect(() => yankVersion(missing, 'mcs-driver-csv', '1.0.0', who)).toThrowWithCode('E_NOT_FOUND');
    expect(existsSync(missing)).toBe(false);
  });
});

describe('labels', () => {
  it('refuses Verified when one version fails verification now, naming it', async () => {
    const verify = async (_name: string, versions: string[]) => new Map(versions.map((v) => [v, v === '1.1.0' ? ['E_IDENTITY_MISMATCH'] : []]));
    let error: any;
    try {
      await setLabel(dir, 'mcs-driver-csv', 'verified', who, verify);
    } catch (e) {
      error = e;
    }
    expect(error).toThrowWithCode('E_LABEL_REQUIREMENTS');
    expect(error.details.failures).toEqual([{ version: '1.1.0', codes: ['E_IDENTITY_MISMATCH'] }]);
    expect(codes()).toEqual([]);
  });

  it('sets Verified when every live version verifies, and logs it', async () => {
    const records = await setLabel(dir, 'mcs-driver-csv', 'verified', who, async (_n, versions) => new Map(versions.map((v) => [v, []])));
    expect(records.map((r) => `${r.field} ${JSON.stringify(r.before)} -> ${JSON.stringify(r.after)}`)).toEqual(['label "community" -> "verified"']);
    expect(codes()).toEqual([]);
  });

  it('refuses to set a label when the entry changed while its versions were being verified', async () => {
    const verify = async (_name: string, versions: string[]) => {
      yankVersion(dir, 'mcs-driver-csv', '1.0.0', { by: 'bob', why: 'meanwhile' }); // lands during the registry check
      return new Map(versions.map((v) => [v, []]));
    };
    await expect(setLabel(dir, 'mcs-driver-csv', 'verified', who, verify)).rejects.toThrowWithCode('E_LABEL_REQUIREMENTS');
    expect(JSON.parse(readFileSync(join(dir, 'npm', 'mcs-driver-csv.json'), 'utf8')).label.value).toBe('community');
    expect(codes()).toEqual([]);
  });

  it('refuses Verified without a pinned publisher', async () => {
    await expect(setLabel(dir, 'mcs-driver-rest', 'verified', who, async () => new Map())).rejects.toThrowWithCode('E_LABEL_REQUIREMENTS');
  });
});
