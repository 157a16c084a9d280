/**
 * Publishing and updating signed index snapshots: the I/O around the pure
 * checks of metadata.ts. A snapshot folder holds content.json (every entry,
 * canonical JSON), snapshot.json (the signed metadata naming its digest),
 * root.json and <n>.root.json (the index roots, for rotation).
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { defaultIndexStateDir } from '../config.js';
import { canonical } from '../contract/index.js';
import { McsError, wholeNumber, type McsErrorCode } from '../errors.js';
import { auditProblems, readIndexDir } from '../index/build.js';
import { LOG_FILE, assertLogExtends, type LogScan } from '../maintain/log.js';
import type { IndexEntry } from '../manifest/types.js';
import { assertIndexEntry } from '../manifest/validate.js';
import { assertOutsideInstall } from '../maintain/target.js';
import { MAX_LOG_BYTES, logKeysOf, scanLogFile } from '../maintain/log-file.js';
import { parseJsonStrict } from '../manifest/json.js';
import { getBytes } from '../registry/http.js';
import { TEMP_FILE_PID, makeDirs, readFileCapped, readKey, removeDeadLeftovers, writeAtomic } from '../files.js';
import { keepSignedMetadata, writeInstalledSnapshot } from './installed.js';
import { observedIdentity } from '../trust/identity.js';
import { bundleCertificate, createTrustMaterial, resolveTrustedRoot, signKeyless, type KeylessSignOptions, type TufOptions } from '../trust/sigstore.js';
import { KEYLESS_TYPE, assertRootShape, keylessMismatch, MAX_METADATA_BYTES, SNAPSHOT_TYPE, countValidSignatures, needsSigstore, parseSigned, ROOT_TYPE, rotateRoot, signMetadata, signingBytes, trustInitialRoot, verifyContent, verifySnapshot, type KeylessTrust, type RootSigned, type Signed, type SnapshotSigned } from './metadata.js';

export const SNAPSHOT_FILE = 'snapshot.json';
export const ROOT_FILE = 'root.json';
export const DEFAULT_EXPIRES_DAYS = 30;
export const DEFAULT_MAX_CONTENT_BYTES = 1024 * 1024 * 1024;
/** Most root rotations followed in one update (TUF 5.3: bounded). */
const MAX_ROTATIONS = 32;

/** Sigstore trust inputs, for checking keyless signatures (publish checks its own, as clients will). */
export interface SigstoreTrustOptions {
  /** Sigstore trusted_root.json (default: the public-good one through TUF). */
  trustedRoot?: string;
  tuf?: Partial<TufOptions>;
}

/** Sigstore trust material for keyless snapshot signatures: the pinned trusted root, else the public-good one through TUF. */
async function keylessTrust(options: SigstoreTrustOptions): Promise<KeylessTrust> {
  const root = await resolveTrustedRoot(options.trustedRoot, options.tuf);
  return { sigstore: createTrustMaterial(root.json) };
}

/** The content file of a snapshot is named by its digest, so publishing never rewrites a file an earlier snapshot.json names (TUF's consistent snapshots). */
export function contentFileName(sha512: string): string {
  return `content.${sha512.slice(0, 32)}.json`;
}
const CONTENT_FILE_PATTERN = /^content(\.[0-9a-f]{32})?\.json$/;

/** The audit log a snapshot was published from, beside it and named by its head, as content is named by its digest. */
export function logFileName(head: string): string {
  return `audit.${head.slice(0, 32)}.jsonl`;
}
const LOG_FILE_PATTERN = /^audit\.[0-9a-f]{32}\.jsonl$/;

export interface PublishOptions extends SigstoreTrustOptions {
  indexDir: string;
  outDir: string;
  /** The signed index root (root.json) the keys belong to. */
  root: string;
  /** Maintainer private keys (PEM files). With `keyless`, together a threshold of the root's snapshot role. */
  keys: string[];
  /** Also sign keylessly with Sigstore, as the publishing workflow the root pins; the bundle is verified as clients will before anything is written. */
  keyless?: KeylessSignOptions;
  /** The snapshot version. Default: one more than the snapshot.json already in `outDir`; a folder without one needs it given. */
  version?: number;
  expiresDays?: number;
  now?: Date;
}

export interface PublishResult {
  version: number;
  expires: string;
  entries: number;
  content: { file: string; length: number; sha512: string };
}

/**
 * Adds the keyless signature: signs the snapshot's bytes with Sigstore and
 * files the bundle under the publishing workflow the root pins, then checks
 * it with the clients' own code; a certificate for another identity, or a
 * bundle the Sigstore trust material does not verify, is refused before
 * anything is written, since no client would count it.
 */
async function addKeylessSignature(metadata: Signed<SnapshotSigned>, root: RootSigned, options: PublishOptions & { keyless: KeylessSignOptions }): Promise<KeylessTrust> {
  const keyid = root.roles.snapshot.keyids.find((id) => root.keys[id]?.keytype === KEYLESS_TYPE);
  const record = keyid ? root.keys[keyid] : undefined;
  if (!keyid || record?.keytype !== KEYLESS_TYPE) throw new McsError('E_INDEX_SIGNATURE', `index root version ${root.version} pins no publishing workflow, so a keyless signature would not count; sign with maintainer keys (--key), or add a workflow to the root`, {});
  const trust = await keylessTrust(options);
  const bundle = await signKeyless(signingBytes(metadata.signed), options.keyless);
  const alone: Signed<SnapshotSigned> = { signed: metadata.signed, signatures: [{ keyid, bundle }] };
  if (countValidSignatures(alone, root, 'snapshot', trust) !== 1) {
    const certificate = bundleCertificate(bundle);
    const why = certificate ? keylessMismatch(record.identity, certificate) : 'the bundle has no signing certificate';
    const pinned = `${record.identity.repository}/${record.identity.workflow}@${record.identity.ref}`;
    throw new McsError('E_INDEX_SIGNATURE', why
      ? `the keyless signature is for ${certificate ? observedIdentity(certificate).buildSigner ?? 'an unknown identity' : 'no identity'}, but index root version ${root.version} pins ${pinned}: ${why}; nothing was written`
      : `the keyless signature does not verify against the Sigstore trusted root clients will use (check --fulcio-url, --rekor-url and --trusted-root); nothing was written`, { details: { pinned, reason: why } });
  }
  metadata.signatures.push({ keyid, bundle });
  return trust;
}

/**
 * What the publishing folder already serves, checked against the root about
 * to sign: never an older root than the folder publishes (clients that
 * followed it would refuse the snapshot), and every rotation file from the
 * folder's oldest root up to this one present, so any client can follow the
 * chain. Returns the previous snapshot's metadata, if any.
 */
function publishedBefore(outDir: string, root: RootSigned, rootBytes: Buffer): SnapshotSigned | undefined {
  if (!existsSync(outDir)) return undefined;
  let names: string[];
  try {
    if (!statSync(outDir).isDirectory()) throw new McsError('E_USAGE', `${outDir} is not a folder; give --out a folder to publish into`, { details: { outDir } });
    names = readdirSync(outDir);
  } catch (cause) {
    if (cause instanceof McsError) throw cause;
    throw new McsError('E_USAGE', `cannot read ${outDir}: ${(cause as Error).message}`, { cause, details: { outDir } });
  }
  const same = join(outDir, `${root.version}.${ROOT_FILE}`);
  if (names.includes(`${root.version}.${ROOT_FILE}`) && !readFileCapped(same, MAX_METADATA_BYTES, 'published index root', { code: 'E_INDEX_IO' }).equals(rootBytes)) {
    throw new McsError('E_INDEX_ROOT', `${same} is a different root of the same version: clients that trust it would refuse this snapshot, and could not rotate away; rotate to version ${root.version + 1} instead`, { details: { file: same } });
  }
  const rootVersions = names.map((name) => /^(\d+)\.root\.json$/.exec(name)).filter((m) => m !== null).map((m) => Number(m[1]));
  const newest = Math.max(0, ...rootVersions);
  if (newest > root.version) {
    throw new McsError('E_INDEX_ROOT', `${outDir} already publishes index root version ${newest}; sign with that root (or a later one), not version ${root.version}`, { details: { published: newest, root: root.version } });
  }
  const oldest = Math.min(root.version, ...rootVersions);
  for (let n = oldest; n < root.version; n++) {
    if (!rootVersions.includes(n)) {
      throw new McsError('E_INDEX_ROOT', `${join(outDir, `${n}.${ROOT_FILE}`)} is missing: clients at index root version ${oldest} could not follow the rotations to version ${root.version}; copy it into the folder`, { details: { missing: n } });
    }
  }
  const file = join(outDir, SNAPSHOT_FILE);
  if (!existsSync(file)) return undefined;
  const previous = parseSigned<SnapshotSigned>(readFileCapped(file, MAX_METADATA_BYTES, 'published snapshot', { code: 'E_INDEX_IO' }), SNAPSHOT_TYPE, file).signed;
  const content = previous.content as Partial<SnapshotSigned['content']> | undefined;
  const log = previous.log as Partial<NonNullable<SnapshotSigned['log']>> | undefined;
  if (typeof content?.file !== 'string' || (log !== undefined && (!Number.isSafeInteger(log.records) || typeof log.head !== 'string' || !/^[0-9a-f]{64}$/.test(log.head)))) {
    throw new McsError('E_INDEX_SIGNATURE', `${file}: the snapshot this folder publishes is malformed (content or log reference); restore it from the live site before publishing`, { details: { file } });
  }
  return previous;
}

/** The audit log the snapshot.json of a publishing folder signs (length, head, snapshot version), if it signs one. */
export function publishedLog(outDir: string): { records: number; head: string; version: number } | undefined {
  const file = join(outDir, SNAPSHOT_FILE);
  const { signed } = parseSigned<SnapshotSigned>(readFileCapped(file, MAX_METADATA_BYTES, 'snapshot'), SNAPSHOT_TYPE, file);
  return signed.log ? { ...assertSignedLogShape(signed.log, false), version: signed.version } : undefined;
}

/** Copies the log beside the snapshot, as it was checked: a log that changed meanwhile (a maintainer's change landing) is not published under this head. */
function copyLog(from: string, to: string, head: { records: number; head: string; length: number }): void {
  const partial = `${to}.partial-${process.pid}`;
  try {
    copyFileSync(from, partial);
    const copied = scanLogFile(partial);
    if (copied.records < head.records || (copied.records === head.records && copied.head !== head.head)) {
      throw new McsError('E_LOG_CHAIN', `${from} changed while the snapshot was made (${copied.records} records now, ${head.records} checked); publish again`, { details: { source: from } });
    }
    if (copied.records > head.records || copied.bytes !== head.length) {
      throw new McsError('E_LOG_LOCKED', `${from} grew while the snapshot was made (a maintainer's change landed); publish again`, { details: { source: from } });
    }
    renameSync(partial, to);
  } finally {
    rmSync(partial, { force: true });
  }
}

/** Publishes the whole index as one signed snapshot; an index with any validation problem, or signers short of the threshold, is refused before anything is written. */
export async function publishSnapshot(options: PublishOptions): Promise<PublishResult> {
  assertOutsideInstall(options.outDir, 'give --out a folder of your own to publish into');
  const rootBytes = readFileCapped(options.root, MAX_METADATA_BYTES, 'index root');
  const root = trustInitialRoot(rootBytes, options.root);
  const previous = publishedBefore(options.outDir, root, rootBytes);
  // the index checked as validate does, its audit log signed by maintainers this root lists
  // and extending the log the previous snapshot was published from: a log cut short, or rebuilt with a fresh chain, is refused
  const { report, entries, log } = readIndexDir(options.indexDir, { root: options.root, ...(previous?.log ? { published: { ...previous.log, version: previous.version } } : {}) });
  if (report.problems.length > 0) {
    const first = report.problems[0]!;
    throw new McsError(first.code as McsErrorCode, `${options.indexDir}: ${report.problems.length} problem(s); run mcs-pkg index validate. First: ${first.message}`, { details: { problems: report.problems } });
  }
  // clients refuse a snapshot without a signed log: every published change is accounted for by a maintainer's signature
  if (!log || log.records === 0) throw new McsError('E_LOG_UNSIGNED', `${options.indexDir}: no audit log, and clients accept only a snapshot whose changes a signed log accounts for; start it with mcs-pkg index log --init --key FILE --reason TEXT`, { details: { indexDir: options.indexDir } });
  if (log.adoptedAt === null) throw new McsError('E_LOG_UNSIGNED', `${options.indexDir}: the audit log is not signed; adopt it once (mcs-pkg index log --upgrade --key FILE) before publishing`, { details: { indexDir: options.indexDir } });
  // the content is signed by its digest, so it need not be canonical: entries as read, in file order, written natively
  const content = Buffer.from(JSON.stringify({ format: 'mcs-pkg/index-content@1', entries }), 'utf8');
  const now = options.now ?? new Date();
  if (options.version === undefined && !previous) {
    throw new McsError('E_USAGE', `${options.outDir} holds no snapshot.json to continue from, and clients refuse a version below the one they hold: give the version (--snapshot-version 1 for a new index; in CI, a number that only grows, such as the run number or the time in seconds), or publish into a copy of the live folder`, { details: { outDir: options.outDir } });
  }
  const version = options.version === undefined ? previous!.version + 1 : wholeNumber(options.version, 'snapshot-version', 1, Number.MAX_SAFE_INTEGER);
  if (previous && version <= previous.version) {
    throw new McsError('E_INDEX_ROLLBACK', `${options.outDir} already publishes snapshot version ${previous.version}; clients would refuse version ${version}`, { details: { published: previous.version, version } });
  }
  const expires = new Date(now.getTime() + wholeNumber(options.expiresDays ?? DEFAULT_EXPIRES_DAYS, 'expires-days', 1, 3650) * 86_400_000).toISOString();
  const sha512 = createHash('sha512').update(content).digest('hex');
  const file = contentFileName(sha512);
  const head = { records: log.records, head: log.head, length: log.bytes };
  const signed: SnapshotSigned = { _type: SNAPSHOT_TYPE, version, expires, rootVersion: root.version, content: { file, length: content.length, sha512 }, log: head };
  const metadata = signMetadata(signed, options.keys.map((key) => readKey(key, 'private')));
  const trust = options.keyless ? await addKeylessSignature(metadata, root, { ...options, keyless: options.keyless }) : undefined;
  const signers = countValidSignatures(metadata, root, 'snapshot', trust);
  if (signers < root.roles.snapshot.threshold) {
    const role = new Set(root.roles.snapshot.keyids);
    const strangers = options.keys.filter((_, i) => !role.has(metadata.signatures[i]!.keyid));
    const why = strangers.length > 0 ? ` (${strangers.join(', ')}: not a key of its snapshot role)` : '';
    throw new McsError('E_INDEX_SIGNATURE', `the snapshot would carry ${signers} of the ${root.roles.snapshot.threshold} signatures index root version ${root.version} requires${why}; nothing was written`, { details: { signers, threshold: root.roles.snapshot.threshold, strangers } });
  }
  // content first, metadata last: a reader that sees the new metadata finds its content in place, and one
  // that read the previous metadata still finds the previous content (kept until the next publish)
  writeAtomic(join(options.outDir, file), content);
  copyLog(join(options.indexDir, LOG_FILE), join(options.outDir, logFileName(head.head)), head);
  writeAtomic(join(options.outDir, ROOT_FILE), rootBytes);
  writeAtomic(join(options.outDir, `${root.version}.${ROOT_FILE}`), rootBytes);
  writeAtomic(join(options.outDir, SNAPSHOT_FILE), JSON.stringify(metadata, null, 1));
  // tidying up is best effort: the snapshot is published whether or not an old content file can be removed
  try {
    for (const name of readdirSync(options.outDir)) {
      if (CONTENT_FILE_PATTERN.test(name) && name !== file && name !== previous?.content.file) rmSync(join(options.outDir, name), { force: true });
      if (LOG_FILE_PATTERN.test(name) && name !== logFileName(head.head) && name !== (previous?.log && logFileName(previous.log.head))) rmSync(join(options.outDir, name), { force: true });
    }
  } catch {
    // left for the next publish
  }
  return { version, expires, entries: entries.length, content: { file, length: content.length, sha512 } };
}

export interface UpdateOptions extends SigstoreTrustOptions {
  /** A snapshot folder or an http(s) URL; default: the source of the last update (E_USAGE when there was none). */
  from?: string;
  /** Where the client keeps its trusted root, its state and its index-data versions. Default defaultIndexStateDir() (`<cache>/index-state`), where search, info and load look. */
  stateDir?: string;
  /** The index root to start trusting, on the first update; later, one that is not the pinned root is refused (E_INDEX_ROOT) unless `resetRoot`. */
  root?: string;
  /** Forget the pinned root and the stored snapshot version, and trust `root` instead (switching to another index, deliberately). */
  resetRoot?: boolean;
  /** Largest content accepted, in bytes. */
  maxContentBytes?: number;
  timeoutMs?: number;
  now?: Date;
  /** Called while the verified content is unpacked, every 1,000 packages and at the end. */
  onProgress?: (done: number, total: number) => void;
}

export interface UpdateResult {
  status: 'updated' | 'current';
  version: number;
  previousVersion: number | null;
  rootVersion: number;
  /** When the snapshot and the trusted root expire: past either, updates are refused until the maintainers publish or rotate. */
  expires: { snapshot: string; root: string };
  /** The index-data folder to use (a stable link to the current version). */
  indexDir: string;
}

/** The log reference a snapshot signs: records, head and (`withLength`, as every client demands) its byte length, at most MAX_LOG_BYTES. */
function assertSignedLogShape(log: unknown, withLength: false): { records: number; head: string };
function assertSignedLogShape(log: unknown, withLength?: true): { records: number; head: string; length: number };
function assertSignedLogShape(log: unknown, withLength = true): { records: number; head: string; length?: number } {
  const { records, head, length } = log as { records?: unknown; head?: unknown; length?: unknown };
  const badLength = withLength && (!Number.isSafeInteger(length) || (length as number) < 0 || (length as number) > MAX_LOG_BYTES);
  if (!Number.isSafeInteger(records) || typeof head !== 'string' || !/^[0-9a-f]{64}$/.test(head) || badLength) throw new McsError('E_INDEX_SIGNATURE', `${SNAPSHOT_FILE}: the signed audit log reference is malformed (records, head and a length of at most ${MAX_LOG_BYTES} bytes)`, {});
  return { records: records as number, head, ...(withLength ? { length: length as number } : {}) };
}

/**
 * The audit log a snapshot signs, as the client receives it: exactly the
 * signed size (E_INDEX_MIXED), chained, every record since its adoption
 * signed by a maintainer the trusted root lists (E_LOG_SIGNATURE,
 * E_LOG_UNSIGNED), with the signed length and last-line hash
 * (E_INDEX_MIXED), and extending the log this client received before
 * (E_LOG_CHAIN), so who set a label is a fact the client has checked, and
 * keeps beside the entries.
 */
function verifyReceivedLog(file: string, signed: { records: number; head: string; length: number }, root: RootSigned, keptFile: string | undefined): LogScan {
  // the log this client received before: the new one must extend it, as publish demands of the maintainers' copy (a deliberate
  // switch to another index with --reset-root starts its history afresh)
  const kept = keptFile && existsSync(keptFile) ? scanLogFile(keptFile) : undefined;
  const scan = scanLogFile(file, { keys: logKeysOf(root), maxBytes: signed.length, ...(kept ? { hashAt: kept.records } : {}) });
  if (scan.records !== signed.records || scan.head !== signed.head || scan.bytes !== signed.length) {
    throw new McsError('E_INDEX_MIXED', `${logFileName(signed.head)}: ${scan.records} records (${scan.bytes} bytes) ending in ${scan.head.slice(0, 12)}, but the snapshot signed ${signed.records} (${signed.length} bytes) ending in ${signed.head.slice(0, 12)}`, { details: { expected: signed, found: { records: scan.records, head: scan.head, length: scan.bytes } } });
  }
  if (scan.adoptedAt === null) throw new McsError('E_LOG_UNSIGNED', `${logFileName(signed.head)}: no record of the audit log is signed by a maintainer`, {});
  if (kept && kept.records > 0) assertLogExtends(kept, scan, `the one this client received with its current index (${keptFile})`);
  return scan;
}

/** The bytes of a signed root whose content is the trusted root `root`, else null (a published copy that does not match is not passed on). */
function sameRoot(bytes: Buffer | null, root: RootSigned): Buffer | null {
  if (!bytes) return null;
  try {
    return canonical(parseSigned<RootSigned>(bytes, ROOT_TYPE, ROOT_FILE).signed) === canonical(root) ? bytes : null;
  } catch {
    return null;
  }
}

interface State {
  version: number | null;
  root: RootSigned;
  /** Where the last update came from (an absolute folder, or a URL): `update` without --from uses it. */
  from?: string;
}

const STATE_FILE = 'state.json';


/** How a root is named in messages: its version and the ids of the keys that sign roots. */
function describeRoot(root: RootSigned): string {
  return `index root version ${root.version} (root keys ${root.roles.root.keyids.map((id) => id.slice(0, 12)).join(', ')})`;
}

function readState(stateDir: string, initialRoot: string | undefined, resetRoot = false): State {
  const file = join(stateDir, STATE_FILE);
  if (resetRoot && !initialRoot) throw new McsError('E_USAGE', '--reset-root forgets the pinned index root: give the root to trust instead (--root root.json)', { details: { stateDir } });
  if (existsSync(file) && !resetRoot) {
    const unusable = (why: string, cause?: unknown): McsError =>
      new McsError('E_INDEX_ROOT', `${file}: the client's trusted state is unusable (${why}); it is damaged or from an older mcs-pkg. Move it aside and update again with --root root.json, which also forgets the stored snapshot version`, { cause, details: { file } });
    let state: State;
    try {
      state = parseJsonStrict(readFileCapped(file, MAX_METADATA_BYTES, 'client state', { code: 'E_INDEX_IO' }), { source: file, maxBytes: MAX_METADATA_BYTES }) as State;
    } catch (cause) {
      throw unusable((cause as Error).message, cause);
    }
    if (typeof state !== 'object' || state === null || (state.version !== null && !Number.isSafeInteger(state.version)) || typeof state.root !== 'object' || state.root === null || !Number.isSafeInteger(state.root.version)) throw unusable('not a version and an index root');
    try {
      assertRootShape(state.root, 'the stored index root');
    } catch (cause) {
      throw unusable((cause as Error).message, cause);
    }
    // a --root that is not the pinned root (nor an older version of it) is another index: say so, never ignore it
    if (initialRoot) {
      const given = trustInitialRoot(readFileCapped(initialRoot, MAX_METADATA_BYTES, 'index root'), initialRoot);
      if (given.version >= state.root.version && canonical(given) !== canonical(state.root)) {
        throw new McsError(
          'E_INDEX_ROOT',
          `${initialRoot} (${describeRoot(given)}) is not the index root this client has pinned: ${describeRoot(state.root)}, in ${file}. Rotations of the pinned root are followed from <n>.root.json beside the snapshot; to trust another index instead, forgetting the pinned root and the stored snapshot version, update with --reset-root (mcs-pkg update --from SOURCE --root ${initialRoot} --reset-root)`,
          { details: { file, pinned: { version: state.root.version, keyids: state.root.roles.root.keyids }, given: { version: given.version, keyids: given.roles.root.keyids } } },
        );
      }
    }
    return state;
  }
  if (!initialRoot) throw new McsError('E_USAGE', `no trusted index root yet in ${stateDir}: give the index root to start from (--root root.json)`, { details: { stateDir } });
  return { version: null, root: trustInitialRoot(readFileCapped(initialRoot, MAX_METADATA_BYTES, 'index root'), initialRoot) };
}

/**
 * Updates the local index from a snapshot: one clock reading for the whole
 * update; roots rotated one version at a time; the snapshot verified against
 * the trusted root and the stored version; the content fetched no larger
 * than its signed length and verified; then unpacked into a fresh folder
 * and switched in by renaming a link. The previous version stays; a failure
 * at any step leaves the working index as it was.
 */
export async function updateIndex(given: UpdateOptions): Promise<UpdateResult> {
  const stateDir = given.stateDir ?? defaultIndexStateDir();
  const noSource = () => new McsError('E_USAGE', `no source to update from yet in ${stateDir}: give --from FOLDER or --from URL once (the first time with the index root to trust, --root root.json); later updates use the same source`, { details: { stateDir } });
  if (given.from === undefined && !existsSync(join(stateDir, STATE_FILE))) throw noSource();
  const state = readState(stateDir, given.root, given.resetRoot);
  const from = given.from ?? state.from;
  if (from === undefined) throw noSource();
  const options = { ...given, stateDir, from };
  const now = options.now ?? new Date();
  const remote = /^https?:\/\//i.test(options.from);
  if (!remote && /^[a-z][a-z0-9+.-]*:\/\//i.test(options.from)) throw new McsError('E_USAGE', `${options.from}: snapshots come from a folder or an http(s) URL`, { details: { from: options.from } });
  const fetchFile = async (name: string, maxBytes: number, optional: boolean): Promise<Buffer | null> => {
    if (remote) {
      return getBytes(new URL(name, options.from.endsWith('/') ? options.from : options.from + '/').href, { maxBytes, timeoutMs: options.timeoutMs ?? 30_000, retries: 2, allowNotFound: optional }).catch((error: unknown) => {
        if (error instanceof McsError && error.code === 'E_REGISTRY_TOO_LARGE') throw new McsError('E_INDEX_TOO_LARGE', error.message, { cause: error });
        if (error instanceof McsError) throw new McsError(error.code, `index snapshot at ${options.from}: ${error.message}`, { cause: error, details: error.details });
        throw error;
      });
    }
    const file = join(options.from, name);
    if (optional && !existsSync(file)) return null;
    return readFileCapped(file, maxBytes, 'snapshot file', { code: 'E_INDEX_IO', tooLargeCode: 'E_INDEX_TOO_LARGE' });
  };
  makeDirs(options.stateDir, 'index state folder', { code: 'E_INDEX_IO', hint: 'give --cache-dir (or MCS_PKG_CACHE) a writable folder' });
  // what a killed update left: its unpacked folder, its link and its temporary files
  removeDeadLeftovers(options.stateDir, [/^index-data\.\d+\.partial-(\d+)$/, /^current\.(\d+)\.tmp$/, TEMP_FILE_PID]);
  let root = state.root;
  let rootBytes: Buffer | null = null;
  for (let i = 0; i < MAX_ROTATIONS; i++) {
    const next = await fetchFile(`${root.version + 1}.${ROOT_FILE}`, MAX_METADATA_BYTES, true);
    if (!next) break;
    root = rotateRoot(root, next, `${root.version + 1}.${ROOT_FILE}`);
    rootBytes = next;
  }
  const snapshotBytes = (await fetchFile(SNAPSHOT_FILE, MAX_METADATA_BYTES, false))!;
  const check = (trust?: KeylessTrust): SnapshotSigned =>
    verifySnapshot(snapshotBytes, root, { now, ...(state.version !== null ? { storedVersion: state.version } : {}), source: SNAPSHOT_FILE, ...(trust ? { trust } : {}) });
  let snapshot: SnapshotSigned;
  try {
    snapshot = check(); // maintainer keys alone may be enough: then Sigstore's trusted root is not needed (nor the network to get it)
  } catch (error) {
    if (!(error instanceof McsError && error.code === 'E_INDEX_SIGNATURE' && needsSigstore(root, parseSigned(snapshotBytes, SNAPSHOT_TYPE, SNAPSHOT_FILE)))) throw error;
    snapshot = check(await keylessTrust(options));
  }
  const current = join(options.stateDir, 'current');
  if (snapshot.version === state.version && existsSync(current)) {
    writeInstalledSnapshot(current, snapshot, root);
    return { status: 'current', version: snapshot.version, previousVersion: state.version, rootVersion: root.version, expires: { snapshot: snapshot.expires, root: root.expires }, indexDir: current };
  }
  const cap = Math.min(options.maxContentBytes ?? DEFAULT_MAX_CONTENT_BYTES, snapshot.content.length);
  if (snapshot.content.length > (options.maxContentBytes ?? DEFAULT_MAX_CONTENT_BYTES)) {
    throw new McsError('E_INDEX_TOO_LARGE', `${snapshot.content.file}: the snapshot names ${snapshot.content.length} bytes of content, over the limit of ${options.maxContentBytes ?? DEFAULT_MAX_CONTENT_BYTES}`, {});
  }
  const content = (await fetchFile(snapshot.content.file, cap, false))!;
  verifyContent(content, snapshot, snapshot.content.file);
  const parsed = parseJsonStrict(content, { source: snapshot.content.file, maxBytes: content.length, maxDepth: 64 }) as { entries?: Array<{ path?: unknown; entry?: unknown }> };
  if (!Array.isArray(parsed.entries)) throw new McsError('E_INDEX_MIXED', `${snapshot.content.file}: no entries`, {});

  // unpack into a private folder, then switch `current` to it by renaming a new link over the old one
  const folder = `index-data.${snapshot.version}`;
  const partial = join(options.stateDir, `${folder}.partial-${process.pid}`);
  rmSync(partial, { recursive: true, force: true });
  try {
    mkdirSync(partial, { mode: 0o755 }); // an index with no entries yet still holds its log
    let done = 0;
    for (const item of parsed.entries) {
      if (options.onProgress && (++done % 1000 === 0 || done === parsed.entries.length)) options.onProgress(done, parsed.entries.length);
      if (typeof item.path !== 'string' || !/^(npm|pypi)\/(@[a-z0-9-]+\/)?[a-z0-9-]+\.json$/.test(item.path)) throw new McsError('E_INDEX_MIXED', `${snapshot.content.file}: an entry path ${JSON.stringify(item.path)} is not an index location`, {});
      const file = join(partial, item.path);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, JSON.stringify(item.entry, null, 2) + '\n', { flag: 'wx' });
    }
    // every snapshot carries its signed log, fetched no larger than its signed length; the content must be what the log
    // explains and meet the label rules, exactly as index validate demands of the maintainers' folder
    if (!snapshot.log) throw new McsError('E_LOG_CHAIN', `${SNAPSHOT_FILE}: the snapshot signs no audit log, so nothing accounts for its content${existsSync(join(current, LOG_FILE)) ? ', and the log this client holds would be lost' : ''}; the working index was kept. Ask the maintainers to publish with a signed log (mcs-pkg index publish)`, {});
    const signedLog = assertSignedLogShape(snapshot.log);
    writeFileSync(join(partial, LOG_FILE), (await fetchFile(logFileName(signedLog.head), signedLog.length, false))!, { flag: 'wx' });
    const log = verifyReceivedLog(join(partial, LOG_FILE), signedLog, root, given.resetRoot ? undefined : join(current, LOG_FILE));
    const received = parsed.entries.map((item) => ({ path: item.path as string, entry: item.entry as IndexEntry }));
    for (const { path, entry } of received) assertIndexEntry(entry, `${snapshot.content.file} ${path}`);
    const files = received.map(({ path }) => path.replace(/\.json$/, '').replace('/', ':'));
    const problem = auditProblems(received, { log, entries: received.map(({ entry }) => entry), files }, (path) => `${snapshot.content.file} ${path}`)[0];
    if (problem) throw new McsError(problem.code as McsErrorCode, `${snapshot.content.file}: the content is not what its signed audit log and the label rules allow: ${problem.message}; the working index was kept`, { details: { problem } });
    writeInstalledSnapshot(partial, snapshot, root);
    // the signed metadata as received, for a mirror of this index (mcs-pkg serve): the snapshot and, when this update rotated to it, the root
    keepSignedMetadata(partial, snapshotBytes, sameRoot(rootBytes ?? (await fetchFile(`${root.version}.${ROOT_FILE}`, MAX_METADATA_BYTES, true)), root));
    rmSync(join(options.stateDir, folder), { recursive: true, force: true });
    renameSync(partial, join(options.stateDir, folder));
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    throw error;
  }
  const link = `${current}.${process.pid}.tmp`;
  rmSync(link, { force: true });
  symlinkSync(folder, link);
  renameSync(link, current);
  writeAtomic(join(options.stateDir, STATE_FILE), JSON.stringify({ version: snapshot.version, root, from: remote ? from : resolve(from) } satisfies State));
  // keep this version and the one before it
  for (const name of readdirSync(options.stateDir)) {
    const match = /^index-data\.(\d+)$/.exec(name);
    if (match && Number(match[1]) !== snapshot.version && Number(match[1]) !== state.version) rmSync(join(options.stateDir, name), { recursive: true, force: true });
  }
  return { status: 'updated', version: snapshot.version, previousVersion: state.version, rootVersion: root.version, expires: { snapshot: snapshot.expires, root: root.expires }, indexDir: current };
}

