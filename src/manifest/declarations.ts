/**
 * Driver declarations belong to versions: each version's package states the
 * drivers it ships (its `mcs` metadata), and a version's running driver is
 * compared with its own declaration, never with another version's. An entry
 * keeps one item per distinct declaration, naming the versions that declare
 * it, so that versions declaring the same thing do not repeat it. Pure.
 */
import { createHash } from 'node:crypto';
import { canonical } from '../contract/index.js';
import type { Declaration, DeclaredDriver, IndexEntry } from './types.js';

/** The drivers `version` declares, or undefined when the index records no declaration for it. */
export function declaredFor(entry: Pick<IndexEntry, 'declarations'>, version: string): DeclaredDriver[] | undefined {
  return entry.declarations?.find((d) => d.versions?.includes(version))?.drivers;
}

/** Every driver any declaration of the package names. */
export function allDeclaredDrivers(entry: Pick<IndexEntry, 'declarations'>): DeclaredDriver[] {
  return (entry.declarations ?? []).flatMap((d) => d.drivers);
}

/** The digest the audit log keeps of a declaration (drivers, metadata and tools are large). */
export function declarationDigest(drivers: DeclaredDriver[]): string {
  return `sha256:${createHash('sha256').update(canonical(drivers)).digest('hex')}`;
}

/**
 * The declarations with `version` declaring `drivers`: it joins an identical
 * declaration, else starts its own; whatever it declared before is dropped.
 */
export function declare(declarations: readonly Declaration[] | undefined, version: string, drivers: DeclaredDriver[]): Declaration[] {
  const wanted = canonical(drivers);
  let joined = false;
  const out: Declaration[] = [];
  for (const d of declarations ?? []) {
    const others = d.versions?.filter((v) => v !== version);
    if (!joined && d.versions && canonical(d.drivers) === wanted) {
      out.push({ versions: [...others!, version], drivers: d.drivers });
      joined = true;
    } else if (!d.versions || others!.length > 0) {
      out.push(others && others.length !== d.versions!.length ? { versions: others, drivers: d.drivers } : d);
    }
  }
  if (!joined) out.push({ versions: [version], drivers });
  return out;
}
