/**
 * Verification throughput: 200 fixture drivers served by the loopback
 * fixture registry, their provenance and publish attestations signed by the
 * mock Sigstore, pinned in a fixture index. mcs-pkg's whole pipeline
 * (resolve, fetch, hash, registry signature, both bundles, identity, policy
 * of the index) is divided by the bare @sigstore/verify calls plus hashing
 * for the same bundles and bytes, measured in the same run.
 */
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { PublicKey, TrustedRoot } from '@sigstore/protobuf-specs';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { NPM_PUBLISH_PREDICATE } from '../src/trust/provenance.js';
import { verifyFromRegistry } from '../src/verify.js';
import { startFixtureRegistry } from '../test/helpers/fixture-registry.js';
import { npmDriver, writeEntry } from '../test/helpers/index-data.js';
import { createRegistryKey, keysResponse, signForRegistry, startMockSigstore } from '../test/helpers/mock-sigstore.js';
import { makePackage } from '../test/helpers/tarball.js';

const SLSA_V1 = 'https://slsa.dev/provenance/v1';
const PUBLISHER = { issuer: 'https://token.actions.githubusercontent.com', repository: 'https://github.com/bench/drivers', workflow: '.github/workflows/release.yml', ref: 'refs/tags/v*' };

interface Fixture {
  name: string;
  tarball: Buffer;
  provenance: Record<string, unknown>;
  publish: Record<string, unknown>;
}

export async function verificationFigures(work: string, count = 200): Promise<void> {
  const [sigstore, registry] = await Promise.all([startMockSigstore(), startFixtureRegistry()]);
  const key = createRegistryKey();
  registry.setKeys(keysResponse([{ key }]));
  const indexDir = join(work, 'verify-index');
  const fixtures: Fixture[] = [];
  try {
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      const name = `mcs-driver-bench-v${i}`;
      const tarball = makePackage({ name, version: '1.0.0', type: 'module' }, { 'index.js': `export default ${JSON.stringify(randomBytes(24_000).toString('base64'))};\n` });
      const hex = createHash('sha512').update(tarball).digest('hex');
      const integrity = `sha512-${Buffer.from(hex, 'hex').toString('base64')}`;
      const statement = (predicateType: string) => ({ _type: 'https://in-toto.io/Statement/v1', subject: [{ name: `pkg:npm/${name}@1.0.0`, digest: { sha512: hex } }], predicateType, predicate: {} });
      const [provenance, publish] = await Promise.all([
        sigstore.signStatement(statement(SLSA_V1), { repository: 'bench/drivers', ref: 'refs/tags/v1.0.0', workflow: '.github/workflows/release.yml' }),
        sigstore.signStatementWithKey(statement(NPM_PUBLISH_PREDICATE), key),
      ]);
      registry.publish({ name, version: '1.0.0', tarball, attestations: { attestations: [{ predicateType: SLSA_V1, bundle: provenance }, { predicateType: NPM_PUBLISH_PREDICATE, bundle: publish }] }, signatures: [signForRegistry(key, name, '1.0.0', integrity)] });
      writeEntry(indexDir, npmDriver(name, { label: { value: 'verified', by: 'bench', at: '2026-01-01T00:00:00Z', reason: 'bench' }, trust: { publisher: PUBLISHER }, versions: { '1.0.0': { integrity, size: tarball.length, provenance: true } } }));
      fixtures.push({ name, tarball, provenance, publish });
    }
    const prepared = (performance.now() - t0) / 1000;
    const rootFile = join(work, 'bench-trusted-root.json');
    writeFileSync(rootFile, JSON.stringify(sigstore.trustedRoot));

    // the floor: hashing and the two library verifications per package, nothing else
    const material = toTrustMaterial(TrustedRoot.fromJSON(sigstore.trustedRoot), {
      [key.keyid]: PublicKey.fromJSON({ rawBytes: key.publicKeyBase64, keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start: new Date(0).toISOString() } }),
    });
    const verifier = new Verifier(material);
    const bare = () => {
      const t = performance.now();
      for (const f of fixtures) {
        createHash('sha512').update(f.tarball).digest();
        verifier.verify(toSignedEntity(bundleFromJSON(f.provenance)));
        verifier.verify(toSignedEntity(bundleFromJSON(f.publish)));
      }
      return performance.now() - t;
    };
    bare(); // warm-up
    const bareMs = bare();

    const specs = fixtures.map((f) => f.name);
    const run = async (concurrency: number) => {
      const t = performance.now();
      const results = await verifyFromRegistry(specs, { registry: { registry: registry.url, env: {} }, trustedRoot: rootFile, index: { indexDir, cacheDir: join(work, 'verify-cache') }, concurrency });
      const ms = performance.now() - t;
      const verified = results.filter((r) => !('error' in r) && r.status === 'verified').length;
      if (verified !== count) throw new Error(`bench: only ${verified} of ${count} packages verified`);
      return ms;
    };
    await run(4); // warm-up: builds the index database and warms the caches
    const serialMs = await run(1);
    const concurrentMs = await run(8);
    console.log(`\n(d) verification of ${count} fixture packages from the loopback registry (prepared and signed in ${prepared.toFixed(1)} s)`);
    console.log(`  bare @sigstore/verify x2 + sha512   ${bareMs.toFixed(0)} ms (${(bareMs / count).toFixed(2)} ms per package)`);
    console.log(`  mcs-pkg verify, one at a time       ${serialMs.toFixed(0)} ms = ${(serialMs / bareMs).toFixed(2)}x the bare calls (target <= 1.5x), ${Math.round((count / serialMs) * 1000)} packages/s`);
    console.log(`  mcs-pkg verify, 8 at a time         ${concurrentMs.toFixed(0)} ms = ${(concurrentMs / bareMs).toFixed(2)}x, ${Math.round((count / concurrentMs) * 1000)} packages/s`);
  } finally {
    await Promise.all([sigstore.close(), registry.close()]);
  }
}
