/**
 * The Sigstore conformance runner: verifies every case of the
 * sigstore-conformance bundle-verify data (one folder per case; a name ending
 * in `_fail` must fail) with verifyArtifact, the code path of
 * `mcs-pkg verify --artifact`. Reading is done here, deciding in
 * trust/artifact.ts. Run it with `npm run conformance -- <folder>`.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isMcsError, McsError } from '../errors.js';
import { readFileCapped } from '../files.js';
import { DEFAULT_MAX_JSON_BYTES, parseJsonStrict } from '../manifest/json.js';
import { verifyArtifact, type ArtifactInput } from '../trust/artifact.js';
import { embeddedTrustedRoot, trustedRootFromFile } from '../trust/roots.js';

/** The conformance suite's defaults (sigstore-conformance test/assets/bundle-verify/README.md). */
export const DEFAULT_IDENTITY = 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
export const DEFAULT_ISSUER = 'https://token.actions.githubusercontent.com';
export const DEFAULT_ARTIFACT = 'a.txt';

const MAX_ARTIFACT_BYTES = 64 * 1024 * 1024;
const MAX_TEXT_BYTES = 64 * 1024;
const MAX_CASES = 10_000;

/**
 * Cases that need something the pinned @sigstore/verify 3.1.1 cannot do,
 * with the reason found in its dist code. Only cases that must pass may be
 * listed: a `_fail` case is never skipped, it must fail.
 */
export const KNOWN_UNSUPPORTED: Readonly<Record<string, string>> = {
  'rekor2-dsse-happy-path':
    'a DSSE envelope logged to Rekor v2 as hashedrekord/0.0.2 records sha256(PAE(payloadType, payload)) (rekor-v2 spec 6.1.4); ' +
    "@sigstore/verify 3.1.1 compares that digest with DSSESignatureContent.compareDigest, i.e. sha256(payload) " +
    '(dist/tlog/hashedrekord.js verifyHashedrekord002TLogBody, dist/bundle/dsse.js), so the entry always fails with "digest mismatch"; ' +
    'with only that comparison patched to sha256(PAE) the case verifies, subject and identity included',
};

export interface ConformanceCase {
  name: string;
  expected: 'pass' | 'fail';
  actual: 'pass' | 'fail' | 'error';
  /** The outcome is the expected one. */
  ok: boolean;
  /** Why it verified or did not (the first failed check, or the error). */
  reason: string;
  /** Set when the case is in KNOWN_UNSUPPORTED: the reason it cannot pass. */
  unsupported?: string;
}

export interface ConformanceReport {
  folder: string;
  cases: ConformanceCase[];
  /** Cases not in KNOWN_UNSUPPORTED whose outcome is the expected one. */
  passed: number;
  /** Cases not in KNOWN_UNSUPPORTED with the wrong outcome, plus known-unsupported cases that now pass (a stale entry). */
  failed: number;
}

/** Reads a file of the suite, no larger than `maxBytes`. */
function readCapped(file: string, maxBytes: number, code: 'E_USAGE' | 'E_JSON_TOO_LARGE' = 'E_USAGE'): Buffer {
  return readFileCapped(file, maxBytes, 'conformance file', { tooLargeCode: code });
}

/** A one-line text file (identity, issuer), without its final line ending. */
function readLine(file: string): string {
  return readCapped(file, MAX_TEXT_BYTES).toString('utf8').replace(/\r?\n$/, '');
}

/** The verification inputs of one case folder, with the suite's defaults filled in. */
function caseInput(folder: string, dir: string): ArtifactInput {
  const at = (name: string) => join(dir, name);
  const bundle = parseJsonStrict(readCapped(at('bundle.sigstore.json'), DEFAULT_MAX_JSON_BYTES, 'E_JSON_TOO_LARGE'), { source: at('bundle.sigstore.json') });
  const artifact = readCapped(existsSync(at('artifact')) ? at('artifact') : join(folder, DEFAULT_ARTIFACT), MAX_ARTIFACT_BYTES);
  const trustedRoot = existsSync(at('trusted_root.json')) ? trustedRootFromFile(at('trusted_root.json')).json : embeddedTrustedRoot().json;
  if (existsSync(at('key.pub'))) return { artifact, bundle, trustedRoot, key: readCapped(at('key.pub'), MAX_TEXT_BYTES).toString('utf8') };
  const identity = {
    subjectAlternativeName: existsSync(at('identity')) ? readLine(at('identity')) : DEFAULT_IDENTITY,
    issuer: existsSync(at('issuer')) ? readLine(at('issuer')) : DEFAULT_ISSUER,
  };
  return { artifact, bundle, trustedRoot, identity };
}

/** Runs one case: an McsError (unreadable bundle, unusable trusted root) is a failed verification; any other throw is a bug, never a pass. */
function runCase(folder: string, name: string): ConformanceCase {
  const expected = name.endsWith('_fail') ? 'fail' : 'pass';
  const unsupported = expected === 'pass' ? KNOWN_UNSUPPORTED[name] : undefined;
  let actual: ConformanceCase['actual'];
  let reason: string;
  try {
    const verdict = verifyArtifact(caseInput(folder, join(folder, name)));
    const failed = verdict.results.find((r) => r.status === 'fail');
    actual = failed ? 'fail' : 'pass';
    reason = failed ? `${failed.check}: ${failed.code}: ${failed.message}` : verdict.results.map((r) => `${r.check}: ${r.message}`).join('; ');
  } catch (error) {
    if (isMcsError(error)) {
      actual = 'fail';
      reason = `${error.code}: ${error.message}`;
    } else {
      actual = 'error';
      reason = `unexpected error: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
    }
  }
  return { name, expected, actual, ok: actual === expected, reason, ...(unsupported !== undefined ? { unsupported } : {}) };
}

/** Runs every case folder of the bundle-verify data in `folder`, in name order. */
export function runConformance(folder: string): ConformanceReport {
  const root = resolve(folder);
  const names = readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  if (names.length > MAX_CASES) throw new McsError('E_USAGE', `${root}: more than ${MAX_CASES} case folders`);
  // a case is a folder holding bundle.sigstore.json: a folder with none is not the suite's data (a wrong path), not 0 passed and all failed
  if (!names.some((name) => existsSync(join(root, name, 'bundle.sigstore.json')))) {
    throw new McsError('E_USAGE', `${root} holds no conformance case (a folder with bundle.sigstore.json); give the sigstore-conformance bundle-verify data, e.g. ../shared/conformance/sigstore-bundle-verify`, { details: { folder: root } });
  }
  const cases = names.map((name) => runCase(root, name));
  const counted = cases.filter((c) => c.unsupported === undefined);
  const stale = cases.filter((c) => c.unsupported !== undefined && c.ok);
  return { folder: root, cases, passed: counted.filter((c) => c.ok).length, failed: counted.filter((c) => !c.ok).length + stale.length };
}

/** Renders the report: one line per counted case, then the known-unsupported ones, then the totals. */
export function renderReport(report: ConformanceReport): string[] {
  const lines: string[] = [];
  const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ');
  const describe = (c: ConformanceCase) => (c.actual === 'pass' ? 'verified, but it must fail' : c.actual === 'fail' ? 'failed, but it must verify' : 'crashed');
  for (const c of report.cases) {
    if (c.unsupported !== undefined) continue;
    lines.push(c.ok ? `ok   ${c.name}` : `FAIL ${c.name}: ${describe(c)}: ${oneLine(c.reason)}`);
  }
  const unsupported = report.cases.filter((c) => c.unsupported !== undefined);
  if (unsupported.length > 0) {
    lines.push('', `KNOWN UNSUPPORTED (${unsupported.length}, skipped, not counted; @sigstore/verify 3.1.1 lacks what they need):`);
    for (const c of unsupported) {
      lines.push(
        c.ok
          ? `FAIL ${c.name}: listed as known unsupported but now passes: remove it from KNOWN_UNSUPPORTED`
          : `skip ${c.name}: ${c.unsupported} (outcome: ${oneLine(c.reason)})`,
      );
    }
    lines.push('');
  }
  lines.push(`${report.passed} passed, ${report.failed} failed`);
  return lines;
}

function main(argv: string[]): number {
  const folder = argv[0];
  if (folder === undefined || folder === '') {
    process.stderr.write('usage: npm run conformance -- <folder>\n  <folder>: the sigstore-conformance bundle-verify data (e.g. ../shared/conformance/sigstore-bundle-verify)\n');
    return 2;
  }
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    process.stderr.write(`conformance data not found: ${resolve(folder)} is not a folder\n`);
    return 2;
  }
  let report: ConformanceReport;
  try {
    report = runConformance(folder);
  } catch (error) {
    if (!(error instanceof McsError) || error.code !== 'E_USAGE') throw error;
    process.stderr.write(`${error.message}\n`);
    return 2;
  }
  process.stdout.write(renderReport(report).join('\n') + '\n');
  return report.failed > 0 ? 1 : 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
