/**
 * Verification results are data: each check returns a CheckResult, the
 * verifier folds them into a Verdict, and only the CLI turns a verdict into
 * an exit code.
 */
import type { LoaderErrorCode, PolicyErrorCode, TrustErrorCode } from '../errors.js';

export type CheckName = 'filename' | 'integrity' | 'size' | 'manifest' | 'registry-signature' | 'provenance' | 'identity' | 'publish-attestation' | 'policy' | 'installed';

export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface CheckResult {
  check: CheckName;
  status: CheckStatus;
  /** Set on failure: the stable code of what failed. */
  code?: TrustErrorCode | PolicyErrorCode | LoaderErrorCode;
  /** One sentence a person can act on; on failure it says expected X, got Y. */
  message: string;
  /** The facts behind the result (digests, keyids, certificate fields, log index). */
  evidence: Record<string, unknown>;
}

export function pass(check: CheckName, message: string, evidence: Record<string, unknown> = {}): CheckResult {
  return { check, status: 'pass', message, evidence };
}

export function fail(check: CheckName, code: TrustErrorCode | PolicyErrorCode | LoaderErrorCode, message: string, evidence: Record<string, unknown> = {}): CheckResult {
  return { check, status: 'fail', code, message, evidence };
}

export function skip(check: CheckName, message: string, evidence: Record<string, unknown> = {}): CheckResult {
  return { check, status: 'skip', message, evidence };
}
