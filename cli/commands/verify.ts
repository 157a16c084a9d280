import { McsError, exitCodeFor } from '../../src/errors.js';
import { indexOptions, trustFlags, tufFlags, warnIfIndexExpired, type Context, type GlobalArgs } from '../context.js';
import type { IdentityFlags } from '../../src/verify.js';
import { renderArtifactVerdict, renderInstalledPython, renderOnlineReport, renderPypiReport, renderVerdict } from '../render.js';

export interface VerifyArgs extends GlobalArgs {
  packages: string[];
  concurrency?: number;
  installed?: boolean;
  registry?: string;
  tarball?: string;
  attestations?: string;
  package?: string;
  integrity?: string;
  packument?: string;
  sourceRepo?: string;
  workflow?: string;
  issuer?: string;
  ref?: string;
  hostedRunner?: boolean;
  trustedRoot?: string;
  registryKeys?: string;
  policy?: string;
  tufMirror?: string;
  tufRoot?: string;
  offline?: boolean;
  artifact?: string;
  bundle?: string;
  dist?: string;
  attestation?: string | string[];
  provenance?: string;
  certificateIdentity?: string;
  certificateOidcIssuer?: string;
  key?: string;
  indexUrl?: string;
  digestOnly?: boolean;
  python?: boolean;
  distDir?: string;
  allowPth?: string | string[];
}

/** Exit 1 when the verdict is failed: the check ran and said no. */
export default async function verify(args: VerifyArgs, context: Context): Promise<number> {
  if (args.dist !== undefined || args.attestation !== undefined || args.provenance !== undefined) return verifyDist(args, context);
  if (args.artifact !== undefined || args.bundle !== undefined) return verifyArtifact(args, context);
  if (args.python || args.distDir !== undefined || args.allowPth !== undefined) return verifyInstalledPython(args, context);
  if (!args.installed && !args.tarball && args.packages.some((p) => p.startsWith('pypi:'))) return verifyPypi(args, context);
  if (args.indexUrl !== undefined || args.digestOnly) throw new McsError('E_USAGE', '--index-url and --digest-only are for PyPI packages: give pypi:NAME[@VERSION]', {});
  if (args.installed || (args.packages.length > 0 && !args.tarball)) return verifyOnline(args, context);
  if (!args.tarball || !args.package) {
    throw new McsError('E_USAGE', 'give --tarball FILE and --package NAME@VERSION (with --attestations FILE when the version has attestations, --integrity SRI and --packument FILE to compare its digest and registry signature)', {});
  }
  const { verifyTarball } = await import('../../src/verify.js');
  const freshness = await warnIfIndexExpired(args, context);
  const verdict = await verifyTarball({
    tarball: args.tarball,
    package: args.package,
    ...(args.attestations ? { attestations: args.attestations } : {}),
    ...(args.integrity !== undefined ? { integrity: args.integrity } : {}),
    ...(args.packument !== undefined ? { packument: args.packument } : {}),
    ...identity(args),
    ...(args.trustedRoot ? { trustedRoot: args.trustedRoot } : {}),
    ...(args.registryKeys ? { registryKeys: args.registryKeys } : {}),
    ...(args.policy ? { policy: args.policy } : {}),
    index: indexOptions(args, context),
  });
  context.out(context.json ? JSON.stringify({ ...verdict, index: freshness }, null, 2) : renderVerdict(context.display, verdict));
  return verdict.status === 'failed' ? 1 : 0;
}

async function verifyArtifact(args: VerifyArgs, context: Context): Promise<number> {
  if (!args.artifact || !args.bundle) throw new McsError('E_USAGE', 'give --artifact FILE and --bundle FILE together', {});
  if (args.tarball) throw new McsError('E_USAGE', '--tarball and --artifact are two modes: give one of them', {});
  const { verifyArtifactFiles } = await import('../../src/verify.js');
  const verdict = verifyArtifactFiles({
    artifact: args.artifact,
    bundle: args.bundle,
    ...(args.certificateIdentity !== undefined ? { certificateIdentity: args.certificateIdentity } : {}),
    ...(args.certificateOidcIssuer !== undefined ? { certificateOidcIssuer: args.certificateOidcIssuer } : {}),
    ...(args.key !== undefined ? { key: args.key } : {}),
    ...(args.trustedRoot ? { trustedRoot: args.trustedRoot } : {}),
  });
  context.out(context.json ? JSON.stringify(verdict, null, 2) : renderArtifactVerdict(context.display, verdict));
  return verdict.status === 'failed' ? 1 : 0;
}

/** A PyPI file (wheel or sdist) with its PEP 740 attestations, offline. */
async function verifyDist(args: VerifyArgs, context: Context): Promise<number> {
  if (!args.dist || !args.package) throw new McsError('E_USAGE', 'give --dist FILE and --package pypi:NAME@VERSION (with --attestation FILE or --provenance FILE when the file has attestations)', {});
  if (args.tarball || args.artifact || args.bundle || args.attestations || args.integrity !== undefined || args.packument !== undefined || args.registryKeys || args.packages.length > 0 || args.installed) {
    throw new McsError('E_USAGE', '--dist verifies one PyPI file: give it with --attestation/--provenance, --package, the identity flags and --trusted-root only', {});
  }
  const { verifyDistFile } = await import('../../src/pypi/verify.js');
  const attestations = [args.attestation ?? []].flat();
  const verdict = await verifyDistFile({
    dist: args.dist,
    package: args.package,
    ...(attestations.length ? { attestations } : {}),
    ...(args.provenance ? { provenance: args.provenance } : {}),
    ...identity(args),
    ...(args.certificateIdentity !== undefined ? { certificateIdentity: args.certificateIdentity } : {}),
    ...(args.certificateOidcIssuer !== undefined ? { certificateOidcIssuer: args.certificateOidcIssuer } : {}),
    ...(args.trustedRoot ? { trustedRoot: args.trustedRoot } : {}),
    index: indexOptions(args, context),
  });
  context.out(context.json ? JSON.stringify(verdict, null, 2) : renderVerdict(context.display, verdict));
  return verdict.status === 'failed' ? 1 : 0;
}

/** PyPI versions as the index serves them: exit 1 if any failed (or is unpinned without --digest-only), else 2 if any could not be checked, else 0. */
async function verifyPypi(args: VerifyArgs, context: Context): Promise<number> {
  if (!args.packages.every((p) => p.startsWith('pypi:'))) throw new McsError('E_USAGE', 'give PyPI packages (pypi:NAME) and npm packages in separate runs', {});
  if (args.offline) throw new McsError('E_USAGE', 'fetching pypi: packages needs the index; to verify a downloaded file offline, give --dist FILE --package pypi:NAME@VERSION', {});
  if (args.registry || args.registryKeys || args.integrity !== undefined || args.packument !== undefined || args.hostedRunner) {
    throw new McsError('E_USAGE', '--registry, --registry-keys, --integrity, --packument and --hosted-runner are for npm packages; a PyPI index is chosen with --index-url (or pip\'s configuration)', {});
  }
  const { verifyFromPypi } = await import('../../src/pypi/online.js');
  const freshness = await warnIfIndexExpired(args, context);
  const results = await verifyFromPypi(args.packages, {
    ...identity(args),
    ...(args.certificateIdentity !== undefined ? { certificateIdentity: args.certificateIdentity } : {}),
    ...(args.certificateOidcIssuer !== undefined ? { certificateOidcIssuer: args.certificateOidcIssuer } : {}),
    ...(args.trustedRoot ? { trustedRoot: args.trustedRoot } : {}),
    ...tufFlags(args),
    ...(args.indexUrl ? { pypi: { indexUrl: args.indexUrl } } : {}),
    ...(args.digestOnly ? { digestOnly: true } : {}),
    ...(args.concurrency !== undefined ? { concurrency: args.concurrency } : {}),
    index: indexOptions(args, context),
  });
  const rows = results.map((r) => ('error' in r ? { requested: r.requested, error: r.error.toJSON() } : { ...r, files: r.files.map((f) => ('error' in f ? { filename: f.filename, error: f.error.toJSON() } : f)) }));
  context.out(context.json ? JSON.stringify({ results: rows, index: freshness }, null, 2) : renderPypiReport(context.display, results));
  const failed = results.some((r) => ('error' in r ? exitCodeFor(r.error) === 1 : r.status === 'failed' || (r.status === 'unpinned' && !args.digestOnly)));
  if (failed) return 1;
  return results.some((r) => 'error' in r || r.files.some((f) => 'error' in f)) ? 2 : 0;
}

/** The MCS distributions of a Python environment against their pinned wheels: exit 1 if any failed or a startup file is not verified, else 2 if any could not be checked, else 0. */
async function verifyInstalledPython(args: VerifyArgs, context: Context): Promise<number> {
  if (!args.installed || !args.python) throw new McsError('E_USAGE', 'give --installed --python [VENV|PYTHON] (with --dist-dir DIR to compare offline)', {});
  if (args.packages.length > 1) throw new McsError('E_USAGE', 'with --installed --python, give at most one venv folder, site-packages folder or interpreter', {});
  if (args.tarball || args.registry || args.registryKeys || args.integrity !== undefined || args.packument !== undefined || args.digestOnly) {
    throw new McsError('E_USAGE', '--installed --python compares a Python environment with its pinned wheels: give --dist-dir DIR or --index-url URL, and the index options only', {});
  }
  if (args.offline && args.distDir === undefined) throw new McsError('E_USAGE', 'offline, the pinned wheels come from --dist-dir DIR', {});
  const { verifyInstalledPython: verifyEnvironment } = await import('../../src/pypi/installed.js');
  const freshness = await warnIfIndexExpired(args, context);
  const report = await verifyEnvironment(args.packages[0], {
    index: indexOptions(args, context),
    ...(args.distDir !== undefined ? { distDir: args.distDir } : {}),
    ...(args.indexUrl ? { pypi: { indexUrl: args.indexUrl } } : {}),
    ...(args.allowPth !== undefined ? { allowStartup: [args.allowPth].flat() } : {}),
  });
  if (context.json) context.out(JSON.stringify({ ...report, results: report.results.map((r) => ('error' in r ? { requested: r.requested, error: r.error.toJSON() } : r)), index: freshness }, null, 2));
  else context.out(renderInstalledPython(context.display, report));
  if (report.results.some((r) => ('error' in r ? exitCodeFor(r.error) === 1 : r.status === 'failed'))) return 1;
  // a startup file runs code at every interpreter start: one nothing verified vouches for fails the check
  if (report.startup.some((f) => f.status === 'not-verified')) return 1;
  return report.counts.error > 0 ? 2 : 0;
}

function identity(args: VerifyArgs): IdentityFlags {
  return {
    ...(args.sourceRepo ? { sourceRepo: args.sourceRepo } : {}),
    ...(args.workflow ? { workflow: args.workflow } : {}),
    ...(args.issuer ? { issuer: args.issuer } : {}),
    ...(args.ref ? { ref: args.ref } : {}),
    ...(args.hostedRunner ? { hostedRunner: true } : {}),
  };
}

/** Packages fetched from the registry: exit 1 if any failed, else 2 if any could not be checked, else 0. */
async function verifyOnline(args: VerifyArgs, context: Context): Promise<number> {
  if (args.offline) throw new McsError('E_USAGE', 'fetching packages needs the registry; to verify offline, give --tarball FILE --package NAME@VERSION with what you have of --attestations FILE, --integrity SRI and --packument FILE; to fetch from the registry without TUF, drop --offline and give --trusted-root shipped', {});
  if (args.integrity !== undefined || args.packument !== undefined) throw new McsError('E_USAGE', '--integrity and --packument describe a downloaded tarball: give them with --tarball FILE --package NAME@VERSION', {});
  if (args.installed && args.packages.length > 1) throw new McsError('E_USAGE', 'with --installed, give at most one project folder', {});
  const { verifyFromRegistry, verifyInstalled } = await import('../../src/verify.js');
  const options = {
    ...identity(args),
    ...trustFlags(args),
    ...(args.policy ? { policy: args.policy } : {}),
    ...tufFlags(args),
    index: indexOptions(args, context),
    ...(args.concurrency !== undefined ? { concurrency: args.concurrency } : {}),
    ...(context.count ? { onProgress: (done: number, total: number) => context.count!('verified packages', done, total) } : {}),
  };
  // pins, publishers and yanks come from the index: an expired one is said so, as search and info do
  const freshness = await warnIfIndexExpired(args, context);
  const report = args.installed ? await verifyInstalled(args.packages[0] ?? process.cwd(), options) : { results: await verifyFromRegistry(args.packages, options) };
  if (context.json) {
    context.out(JSON.stringify({ ...report, results: report.results.map((r) => ('error' in r ? { requested: r.requested, error: r.error.toJSON() } : r)), index: freshness }, null, 2));
  } else {
    context.out(renderOnlineReport(context.display, report));
  }
  const results = report.results;
  // an error that is itself a failed check (a download cut off past its pinned size) counts as failed
  if (results.some((r) => ('error' in r ? exitCodeFor(r.error) === 1 : r.status === 'failed'))) return 1;
  return results.some((r) => 'error' in r) ? 2 : 0;
}
