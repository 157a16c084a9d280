/**
 * The registry's attestations document for one version
 * (`GET /-/npm/v1/attestations/<name>@<version>`:
 * {"attestations": [{"predicateType", "bundle"}]}), read defensively.
 */
import { McsError } from '../errors.js';
import { NPM_PUBLISH_PREDICATE, SLSA_PROVENANCE_PREDICATES } from './provenance.js';

export interface RegistryAttestations {
  /** The SLSA provenance bundle (JSON), if present. */
  provenance?: unknown;
  /** npm's publish attestation bundle (JSON), if present. */
  publish?: unknown;
  /** Predicate types of other attestations, listed but not used. */
  others: string[];
}

const MAX_ATTESTATIONS = 16;

/** Picks the provenance and publish attestations; a document that repeats either is refused, since which one counts would be ambiguous. */
export function parseAttestations(value: unknown, source: string): RegistryAttestations {
  const list = (value as { attestations?: unknown } | null)?.attestations;
  if (typeof value !== 'object' || value === null || !Array.isArray(list)) {
    throw new McsError('E_ATTESTATION_MALFORMED', `${source}: expected {"attestations": [...]}`, { details: { source } });
  }
  if (list.length > MAX_ATTESTATIONS) throw new McsError('E_ATTESTATION_MALFORMED', `${source}: more than ${MAX_ATTESTATIONS} attestations`, { details: { source } });
  const result: RegistryAttestations = { others: [] };
  list.forEach((item, i) => {
    const entry = item as { predicateType?: unknown; bundle?: unknown } | null;
    if (typeof entry?.predicateType !== 'string' || typeof entry.bundle !== 'object' || entry.bundle === null) {
      throw new McsError('E_ATTESTATION_MALFORMED', `${source}: /attestations/${i} needs a predicateType and a bundle`, { details: { source, pointer: `/attestations/${i}` } });
    }
    const slot = (SLSA_PROVENANCE_PREDICATES as readonly string[]).includes(entry.predicateType) ? 'provenance' : entry.predicateType === NPM_PUBLISH_PREDICATE ? 'publish' : null;
    if (slot === null) {
      result.others.push(entry.predicateType);
    } else if (result[slot] !== undefined) {
      throw new McsError('E_ATTESTATION_MALFORMED', `${source}: two ${slot} attestations`, { details: { source, pointer: `/attestations/${i}` } });
    } else {
      result[slot] = entry.bundle;
    }
  });
  return result;
}
