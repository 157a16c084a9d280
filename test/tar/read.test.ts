/** The tarball reader must see what npm's unpacker would: anything it cannot read the same way is refused. */
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readTarball } from '../../src/tar/read.js';
import { checkIntegrity } from '../../src/trust/integrity.js';
import { makeTarball } from '../helpers/tarball.js';

const manifest = (name: string, version: string) => JSON.stringify({ name, version });

function manifestResult(bytes: Buffer) {
  return checkIntegrity({ name: 'mcs-driver-x', version: '1.0.0', bytes }).find((r) => r.check === 'manifest')!;
}

describe('readTarball and the manifest check', () => {
  it('passes an ordinary package', () => {
    expect(manifestResult(makeTarball([{ path: 'package/package.json', content: manifest('mcs-driver-x', '1.0.0') }])).status).toBe('pass');
  });

  it('refuses two top folders that would both land at the package root', () => {
    const bytes = makeTarball([
      { path: 'a/package.json', content: manifest('mcs-driver-x', '1.0.0') },
      { path: 'b/package.json', content: manifest('other-pkg', '6.6.6') },
    ]);
    expect(manifestResult(bytes)).toMatchObject({ status: 'fail', code: 'E_TAR_DUPLICATE' });
  });

  it('refuses a global pax header', () => {
    const bytes = makeTarball([{ path: 'pax_global_header', type: 'g' }, { path: 'package/package.json', content: manifest('mcs-driver-x', '1.0.0') }]);
    expect(() => readTarball(bytes)).toThrowWithCode('E_TARBALL_INVALID');
  });

  it('refuses data after the end-of-archive marker (node-tar would read on)', () => {
    const good = gunzipSync(makeTarball([{ path: 'package/package.json', content: manifest('mcs-driver-x', '1.0.0') }]));
    const evil = gunzipSync(makeTarball([{ path: 'package/index.js', content: 'steal()' }]));
    const bytes = gzipSync(Buffer.concat([good.subarray(0, good.length - 512), evil]));
    expect(() => readTarball(bytes)).toThrowWithCode('E_TARBALL_INVALID');
  });
});
