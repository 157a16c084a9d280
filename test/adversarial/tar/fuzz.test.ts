/**
 * Bounded differential fuzzing of the tar reader against npm's view: random
 * sequences of headers (files, folders, links, devices, unknown types, GNU
 * L/K/N, pax x/g/X with random records, empty ones), random names from a pool
 * of near-collisions and hostile forms, random size fields, bad checksums,
 * truncation, trailing data and lone zero blocks. For each archive mcs-pkg
 * must list exactly node-tar's entries and plan exactly npm's installed files,
 * or refuse with an E_TAR* code. Fixed seed and iteration budget, so a CI run
 * takes a few seconds and a failure is reproducible from its iteration number.
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { prng } from '../../../bench/generate.js';
import { END_OF_ARCHIVE, padBlocks, paxBody, tarHeader } from '../../helpers/tarball.js';
import { expectNpmParity } from './npm-view.js';

// CI runs the fixed budget; a longer search: MCS_TAR_FUZZ_SEED=123 MCS_TAR_FUZZ_ITERATIONS=20000 npx vitest run test/adversarial/tar/fuzz.test.ts
const SEED = Number(process.env.MCS_TAR_FUZZ_SEED ?? 0x5eed_0009);
const ITERATIONS = Number(process.env.MCS_TAR_FUZZ_ITERATIONS ?? 400);

const NAMES = [
  'package/index.js',
  'package/index.js',
  'package/lib/a.js',
  'package/lib/b.js',
  'package/lib',
  'package/lib/',
  'package/a/./b.js',
  'package/a/b.js',
  'package/A/b.js',
  'package/Index.js',
  './package/x.js',
  'package//y.js',
  'package/./z.js',
  '/package/abs.js',
  'package/../up.js',
  'package/C:/d.js',
  'package/.gitignore',
  'package/.npmignore',
  'other/index.js',
  'package',
  'package/',
  `package/${'n'.repeat(120)}.js`,
  `package/${'deep/'.repeat(30)}f.js`,
  'package/nul\0tail.js',
  'package/caf\u00e9.js',
  'package/cafe\u0301.js',
  'package/sp ace.js',
  'package/new\nline.js',
  'package/q?.js',
];

const TYPES = ['0', '0', '0', '0', '0', '0', '5', '7', '\0', '2', '1', '3', '6', 'D', 'Z', 'S'];
const META_TYPES = ['L', 'L', 'x', 'x', 'x', 'K', 'g', 'N', 'X'];
const PAX_KEYS = ['path', 'path', 'linkpath', 'mtime', 'uid', 'comment', 'size', 'SCHILY.dev', 'mode'];

function generate(next: () => number): Buffer {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const chance = (p: number) => next() < p;
  // a third of the archives stay close to real packages, so that acceptance is exercised too
  const tame = chance(0.35);
  const parts: Buffer[] = [];
  const header = (fields: Parameters<typeof tarHeader>[0]) => tarHeader({ ...fields, badChecksum: !tame && chance(0.03) });
  const manifestBody = Buffer.from(JSON.stringify({ name: 'mcs-driver-fuzz', version: '1.0.0' }));
  if (!chance(0.1)) parts.push(header({ name: 'package/package.json', size: manifestBody.length }), padBlocks(manifestBody));
  const count = 1 + Math.floor(next() * (tame ? 4 : 7));
  for (let i = 0; i < count; i++) {
    const metas = tame ? (chance(0.3) ? 1 : 0) : Math.floor(next() * next() * 3);
    for (let m = 0; m < metas; m++) {
      const type = tame ? pick(['L', 'x']) : pick(META_TYPES);
      let body: Buffer;
      if (type === 'L' || type === 'K' || type === 'N') body = Buffer.from(pick(NAMES) + (chance(0.5) ? '\0' : '') + (chance(0.2) ? 'junk' : ''));
      else {
        const records: Array<[string, string]> = [];
        const n = tame ? 1 : Math.floor(next() * 4);
        for (let r = 0; r < n; r++) {
          const key = tame ? 'path' : pick(PAX_KEYS);
          records.push([key, key === 'size' ? pick(['0', '3', '10', '1e3', '-1', ' 5']) : key.endsWith('path') ? pick(NAMES) : String(Math.floor(next() * 1e6))]);
        }
        body = paxBody(records);
        if (!tame && chance(0.1)) body = Buffer.concat([body, Buffer.from('99 broken=record\n')]);
      }
      if (!tame && chance(0.05)) body = Buffer.alloc(0);
      parts.push(header({ name: '././@LongLink', type, size: body.length }), padBlocks(body));
    }
    const type = tame ? pick(['0', '0', '0', '5']) : pick(TYPES);
    const name = tame ? pick(NAMES.slice(0, 13)) : pick(NAMES);
    const isFile = type === '0' || type === '7' || type === '\0';
    // folders, links, devices and unknown types sometimes carry a body too, which readers skip or not
    const data = isFile || (!tame && chance(0.2)) ? Buffer.from(`content ${i} `.repeat(Math.floor(next() * (chance(0.1) ? 200 : 5)))) : Buffer.alloc(0);
    let size: number | string = data.length;
    if (!tame && chance(0.1)) size = pick([0, data.length + 1, Math.max(0, data.length - 1), data.length + 512, '12x', '        ']);
    const long = typeof name === 'string' && name.length > 100 && chance(0.5);
    const fields = long ? { name: name.slice(name.lastIndexOf('/') + 1), prefix: name.slice(0, name.lastIndexOf('/')) } : { name };
    parts.push(header({ ...fields, type, size, linkname: type === '1' || type === '2' ? pick(['package/index.js', '../../etc/passwd', '']) : '' }), padBlocks(data));
    if (!tame && chance(0.03)) parts.push(Buffer.alloc(512));
  }
  if (!chance(0.1)) parts.push(END_OF_ARCHIVE);
  let tar = Buffer.concat(parts);
  if (!tame && chance(0.08)) tar = Buffer.concat([tar, pick([Buffer.from('trailing'), padBlocks(Buffer.from('x')), Buffer.alloc(512)])]);
  if (!tame && chance(0.08)) tar = tar.subarray(0, Math.floor(next() * tar.length));
  return gzipSync(tar);
}

describe('differential fuzzing against node-tar and npm', () => {
  it(`${ITERATIONS} random archives (seed ${SEED.toString(16)}): the same entries as npm, or refused`, async () => {
    const next = prng(SEED);
    const tally = { accepted: 0, refused: 0 };
    for (let iteration = 0; iteration < ITERATIONS; iteration++) {
      const tgz = generate(next);
      try {
        const outcome = await expectNpmParity(tgz);
        tally['accepted' in outcome ? 'accepted' : 'refused']++;
      } catch (error) {
        throw new Error(`iteration ${iteration} (seed ${SEED.toString(16)}), archive ${tgz.toString('base64')}: ${(error as Error).message}`, { cause: error });
      }
    }
    if (process.env.MCS_TAR_FUZZ_ITERATIONS) console.log(tally);
    // both sides of the rule were exercised
    expect(tally.accepted).toBeGreaterThan(ITERATIONS / 10);
    expect(tally.refused).toBeGreaterThan(ITERATIONS / 10);
  }, Math.max(60_000, ITERATIONS * 100));
});
