import { McsError } from '../../src/errors.js';
import { indexOptions, type Context, type GlobalArgs } from '../context.js';
import { renderArtifactVerdict, renderVerdict } from '../render.js';

export interface VerifyArgs extends GlobalArgs {
  tarball?: string;
  attestations?: string;
  package?: string;
  sourceRepo?: string;
  workflow?: string;
  issuer?: string;
  ref?: string;
  hostedRunner?: boolean;
  trustedRoot?: string;
  registryKeys?: string;
  offline?: boolean;
  artifact?: string;
  bundle?: string;
  certificateIdentity?: string;
  certificateOidcIssuer?: string;
  key?: string;
}

/** Exit 1 when the verdict is failed: the check ran and said no. */
export default async function verify(args: VerifyArgs, context: Context): Promise<number> {
  if (args.artifact !== undefined || args.bundle !== undefined) return verifyArtifact(args, context);
  if (!args.tarball || !args.package) {
    throw new McsError('E_USAGE', 'give --tarball FILE and --package NAME@VERSION (with --attestations FILE when the version has attestations)', {});
  }
  const { verifyTarball } = await import('../../src/verify.js');
  const verdict = await verifyTarball({
    tarball: args.tarball,
    package: args.package,
    ...(args.attestations ? { attestations: args.attestations } : {}),
    ...(args.sourceRepo ? { sourceRepo: args.sourceRepo } : {}),
    ...(args.workflow ? { workflow: args.workflow } : {}),
    ...(args.issuer ? { issuer: args.issuer } : {}),
    ...(args.ref ? { ref: args.ref } : {}),
    ...(args.hostedRunner ? { hostedRunner: true } : {}),
    ...(args.trustedRoot ? { trustedRoot: args.trustedRoot } : {}),
    ...(args.registryKeys ? { registryKeys: args.registryKeys } : {}),
    index: { ...indexOptions(args, context), refresh: true },
  });
  context.out(context.json ? JSON.stringify(verdict, null, 2) : renderVerdict(context.display, verdict));
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
