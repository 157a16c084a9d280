/**
 * The index store: one folder per index-data source under the cache, holding
 * built databases and a CURRENT file naming the live one.
 *
 * A full build writes `<id>.sqlite.partial` in one transaction, renames it to
 * `<id>.sqlite` once complete, then swaps CURRENT by rename. The live file is
 * never replaced under an open connection (renaming over a WAL database that
 * another process has open can pair the new file with the old WAL), so a
 * crash at any point leaves the previous CURRENT and its database usable.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, realpathSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEFAULT_BUSY_TIMEOUT_MS, defaultCacheDir, defaultIndexDir } from '../config.js';
import { McsError, isMcsError } from '../errors.js';
import { makeDirs, readFileCapped, removeDeadLeftovers } from '../files.js';
import { indexFreshness, readInstalledSnapshot, type IndexFreshness, type InstalledSnapshot } from '../snapshot/installed.js';
import type { Ecosystem, IndexEntry } from '../manifest/types.js';
import type { BuildProgress } from './build.js';
import { diffSources, listSources, misplacedError, type SourceDiff, type SourceListing } from './sources.js';
import {
  ROWS_VERSION,
  configureForReading,
  countPackages,
  findPackages,
  guarded,
  knowsWord,
  namesWithPrefix,
  openDb,
  quickCheck,
  readMeta,
  readSources,
  runSearch,
  vocabularyNear,
  type Db,
} from './db.js';
import type { PackageSummary } from './rows.js';
import {
  closestNames,
  closestWord,
  correctable,
  ftsString,
  matchKind,
  maxTypoDistance,
  planSearch,
  suggestionPrefixes,
  type Correction,
  type SearchFilters,
  type SearchHit,
  type SearchOptions,
  type SearchResult,
} from './search.js';

/** Most vocabulary words a mistyped word is compared with (the most widespread of its first letter and length). */
const TYPO_CANDIDATES = 5000;

/** Databases up to this size are structure-checked (PRAGMA quick_check) each time they are opened. */
export const QUICK_CHECK_MAX_BYTES = 16 * 1024 * 1024;
/** Above this many changed files (and this share of all files) a full build is cheaper than an update. */
const INCREMENTAL_MAX_FILES = 200;
const INCREMENTAL_MAX_SHARE = 0.25;
/** Built databases that are neither current nor previous are deleted once this old. */
const PRUNE_AFTER_MS = 10 * 60 * 1000;

export interface OpenIndexOptions {
  /** The index-data folder to serve. Default: the reviewed index shipped with mcs-pkg. */
  indexDir?: string;
  /** Where built databases are kept. Default: defaultCacheDir() ($MCS_PKG_CACHE or the XDG cache). */
  cacheDir?: string;
  /** How long a writer waits for another process's lock, in ms. Default DEFAULT_BUSY_TIMEOUT_MS. */
  busyTimeoutMs?: number;
  /** Bring the database up to date with index-data before use. Default true. */
  refresh?: boolean;
  /** Called while a build runs. */
  onProgress?: (progress: BuildProgress) => void;
}

export type StoreAction = 'reused' | 'updated' | 'built';

export interface IndexStatus {
  indexDir: string;
  database: string;
  packages: number;
  builtAt: string | null;
  /** What opening did: reused the database, applied changed files, or built it anew. */
  action: StoreAction;
  /** Files applied by an incremental update. */
  changedFiles: number;
  /** Where a corrupt database was moved before it was rebuilt. */
  setAside?: string;
  /** The signed snapshot `update` installed this index from (absent for other index folders). */
  snapshot?: InstalledSnapshot;
}

export interface PackageInfo {
  entry: IndexEntry;
  latest: string | null;
  summary: PackageSummary;
  /** The index-data file the entry came from. */
  source: string;
  /** The audit log record that set the label (signed when keyid is there: `update` checked it against the index root), where the index keeps a log. */
  /** The last label record (maintain/log-file labelRecord): `signed` is its key only when the signature verified against a root. */
  labelRecord?: { seq: number; by: string; at: string; why: string; keyid?: string; signed?: string; unchecked?: 'no root' };
}

/** A package spec for lookups: `name` or `<ecosystem>:name`. */
/** PyPI compares names case-blind, with runs of - _ . as one - (PEP 503). */
function pep503(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

export function parseLookup(spec: string, ecosystem?: Ecosystem): { name: string; ecosystem?: Ecosystem } {
  const match = /^(npm|pypi):(.+)$/i.exec(spec);
  const eco = (match?.[1]?.toLowerCase() as Ecosystem | undefined) ?? ecosystem;
  // index names are canonical lowercase
  const lower = (match ? match[2]! : spec).toLowerCase();
  const name = eco === 'pypi' ? pep503(lower) : lower;
  return eco ? { name, ecosystem: eco } : { name };
}

export class McsIndex {
  /** @internal use openIndex() */
  constructor(
    private readonly db: Db,
    readonly status: IndexStatus,
  ) {}

  /** Ranked search over names, descriptions, capabilities, adapters, tools and security notes. */
  search(query: string, filters: SearchFilters = {}, options: SearchOptions = {}): SearchResult {
    let plan = planSearch(query, filters, options);
    const corrections = guarded(this.status.database, () => this.corrections(plan.words));
    let suggestion: SearchResult['suggestion'];
    if (corrections.length > 0) {
      const corrected = plan.words.map((word) => corrections.find((c) => c.from === word)?.to ?? word).join(' ');
      plan = planSearch(corrected, filters, options);
      suggestion = { query: corrected, corrections };
    }
    const finalPlan = plan;
    const rows = guarded(this.status.database, () => runSearch(this.db, finalPlan));
    const results: SearchHit[] = rows.map((row) => ({
      name: row.name,
      ecosystem: row.ecosystem as SearchHit['ecosystem'],
      class: row.class as SearchHit['class'],
      label: row.label as SearchHit['label'],
      description: row.description,
      latest: row.latest,
      match: matchKind(row.tier, plan.text),
      ...(JSON.parse(row.summary) as PackageSummary),
    }));
    return { query, filters, results, ...(suggestion ? { suggestion } : {}) };
  }

  /**
   * Typo tolerance: each searched word the index does not know (see
   * knowsWord; the last one may be a prefix still being typed) is replaced
   * by the closest vocabulary word that starts with the same letter.
   */
  private corrections(words: string[]): Correction[] {
    const out: Correction[] = [];
    words.forEach((word, i) => {
      if (!correctable(word) || knowsWord(this.db, word, ftsString(word), i === words.length - 1)) return;
      const reach = maxTypoDistance(word);
      const to = closestWord(word, vocabularyNear(this.db, word[0]!, word.length - reach, word.length + reach, TYPO_CANDIDATES));
      if (to) out.push({ from: word, to });
    });
    return out;
  }

  /**
   * Everything the index knows about one package. `spec` is a name or
   * `<ecosystem>:name`; a name listed in both ecosystems must say which.
   */
  getPackage(spec: string, options: { ecosystem?: Ecosystem } = {}): PackageInfo {
    const lookup = parseLookup(spec, options.ecosystem);
    let rows = guarded(this.status.database, () => findPackages(this.db, lookup.name, lookup.ecosystem));
    // with no ecosystem named, a PyPI spelling (mcs_driver_csv) still finds the PyPI package
    const pypiName = pep503(lookup.name);
    if (rows.length === 0 && !lookup.ecosystem && pypiName !== lookup.name) rows = guarded(this.status.database, () => findPackages(this.db, pypiName, 'pypi'));
    if (rows.length === 0) {
      const elsewhere = lookup.ecosystem ? guarded(this.status.database, () => findPackages(this.db, lookup.name, undefined)).map((r) => `${r.ecosystem}:${lookup.name}`) : [];
      const suggestions = this.closeNames(lookup.name);
      const hint = elsewhere.length > 0 ? `; it is listed as ${elsewhere.join(', ')}` : suggestions.length > 0 ? `; did you mean ${suggestions.join(', ')}?` : '';
      throw new McsError('E_NOT_FOUND', `${spec} is not in the index${hint}`, { details: { name: lookup.name, suggestions } });
    }
    if (rows.length > 1) {
      const choices = rows.map((r) => `${r.ecosystem}:${lookup.name}`);
      throw new McsError('E_AMBIGUOUS', `${lookup.name} is listed for several ecosystems; say which: ${choices.join(', ')}`, {
        details: { name: lookup.name, choices },
      });
    }
    const row = rows[0]!;
    return {
      entry: JSON.parse(row.doc) as IndexEntry,
      latest: row.latest,
      summary: JSON.parse(row.summary) as PackageSummary,
      source: join(this.status.indexDir, row.source),
    };
  }

  /** Names close to `name` in edit distance (what a person probably meant, or what a typosquat imitates), found by bounded prefix scans. */
  closeNames(name: string): string[] {
    const candidates = guarded(this.status.database, () => suggestionPrefixes(name).flatMap((prefix) => namesWithPrefix(this.db, prefix, 200)));
    return closestNames(name, candidates);
  }

  /** Whether the index is within its snapshot's validity at `now` (an index `update` did not install never expires). */
  freshness(now: Date = new Date()): IndexFreshness {
    return indexFreshness(this.status.snapshot, now);
  }

  close(): void {
    this.db.close();
  }
}

/** The cache folder of one index-data source: keyed by its real path, so two sources never share a database. */
export function storeDirFor(indexDir: string, cacheDir: string): string {
  const key = createHash('sha256').update(realpathSync(indexDir)).digest('hex').slice(0, 16);
  return join(cacheDir, 'index', key);
}

function readCurrent(storeDir: string): string | null {
  let name: string;
  try {
    name = readFileCapped(join(storeDir, 'CURRENT'), 1024, 'index pointer', { code: 'E_INDEX_IO' }).toString('utf8').trim();
  } catch {
    return null;
  }
  return /^index-[0-9a-z-]+\.sqlite$/.test(name) ? name : null;
}

/** Runs a file operation of the store, reporting a failure as E_INDEX_IO that says what was being done. */
function storeIo<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (cause) {
    if (cause instanceof McsError) throw cause;
    throw new McsError('E_INDEX_IO', `index cache: cannot ${what}: ${(cause as Error).message}`, { cause, details: { operation: what } });
  }
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function fsyncFile(file: string): void {
  const fd = openSync(file, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Points CURRENT at `name` atomically: write a temp file, fsync, rename over CURRENT, fsync the folder. */
function publishCurrent(storeDir: string, name: string): void {
  const temp = join(storeDir, `CURRENT.${process.pid}.${randomBytes(4).toString('hex')}`);
  const fd = openSync(temp, 'wx');
  try {
    writeSync(fd, name + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, join(storeDir, 'CURRENT'));
  fsyncDir(storeDir);
}

/** Partial builds and CURRENT temporary files of killed processes, removed whenever the store is opened. */
const LEFTOVERS = [/^index-[0-9a-z]+-(\d+)-[0-9a-f]+\.sqlite\.partial(?:-journal|-wal|-shm)?$/, /^CURRENT\.(\d+)\.[0-9a-f]{8}$/];

/** Removes databases nobody points at: old builds past the grace period (partial builds of dead processes go when the store is opened). */
function prune(storeDir: string, keep: ReadonlySet<string>): void {
  const now = Date.now();
  for (const name of readdirSync(storeDir)) {
    const built = /^(index-[0-9a-z-]+\.sqlite)(-wal|-shm)?$/.exec(name);
    if (!built || keep.has(built[1]!)) continue;
    try {
      if (now - statSync(join(storeDir, name)).mtimeMs > PRUNE_AFTER_MS) rmSync(join(storeDir, name), { force: true });
    } catch {
      // already gone
    }
  }
}

interface Resolved {
  indexDir: string;
  storeDir: string;
  busyTimeoutMs: number;
}

function resolveStore(options: OpenIndexOptions): Resolved {
  const given = resolve(options.indexDir ?? defaultIndexDir(options.cacheDir));
  // the folder may be reached through a link (an updated index's `current`): work on what it points at now
  const indexDir = existsSync(given) ? realpathSync(given) : given;
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  try {
    statSync(indexDir);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') throw new McsError('E_INDEX_NOT_FOUND', `index folder ${indexDir} does not exist`, { cause, details: { indexDir } });
    throw new McsError('E_INDEX_IO', `cannot read index folder ${indexDir}: ${(cause as Error).message}`, { cause, details: { indexDir } });
  }
  const storeDir = storeDirFor(indexDir, cacheDir);
  makeDirs(storeDir, 'index cache', { code: 'E_INDEX_IO', hint: 'give --cache-dir (or MCS_PKG_CACHE) a writable folder' });
  removeDeadLeftovers(storeDir, LEFTOVERS);
  return { indexDir, storeDir, busyTimeoutMs: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS };
}

/**
 * Builds a new database from every file of the index folder and makes it
 * current. The previous database stays on disk (and open handles on it keep
 * working) until it is pruned.
 */
async function buildAndPublish(store: Resolved, onProgress?: (p: BuildProgress) => void, listing?: SourceListing): Promise<string> {
  const { buildDatabase, rowBatches } = await import('./build.js');
  const { sources, misplaced } = listing ?? listSources(store.indexDir);
  if (misplaced.length > 0) throw misplacedError(store.indexDir, misplaced[0]!);
  const id = `index-${Date.now().toString(36)}-${process.pid}-${randomBytes(4).toString('hex')}`;
  const partial = join(store.storeDir, `${id}.sqlite.partial`);
  const name = `${id}.sqlite`;
  try {
    const options = onProgress ? { busyTimeoutMs: store.busyTimeoutMs, onProgress } : { busyTimeoutMs: store.busyTimeoutMs };
    await buildDatabase(partial, rowBatches(store.indexDir, sources), sources.length, store.indexDir, options);
    storeIo('finish the new database', () => {
      fsyncFile(partial);
      renameSync(partial, join(store.storeDir, name));
    });
  } catch (error) {
    for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(partial + suffix, { force: true });
    throw error;
  }
  const previous = readCurrent(store.storeDir);
  storeIo('switch CURRENT to the new database', () => publishCurrent(store.storeDir, name));
  storeIo('prune old databases', () => prune(store.storeDir, new Set([name, ...(previous ? [previous] : [])])));
  return name;
}

/**
 * Moves a corrupt database (and its WAL files) aside so it can be inspected,
 * unless another process already replaced it; returns where it went.
 */
function setAside(storeDir: string, name: string): string | undefined {
  if (readCurrent(storeDir) !== name) return undefined;
  const file = join(storeDir, name);
  const target = `${file}.corrupt-${Date.now().toString(36)}`;
  for (const suffix of ['', '-wal', '-shm']) {
    try {
      renameSync(file + suffix, target + suffix);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') throw new McsError('E_INDEX_IO', `index cache: cannot set aside ${file}: ${(cause as Error).message}`, { cause });
    }
  }
  return target;
}

/** Opens the database and checks its structure; a corrupt file yields E_INDEX_CORRUPT. */
function openChecked(file: string, store: Resolved, readonly: boolean): Db {
  const db = openDb(file, { busyTimeoutMs: store.busyTimeoutMs, readonly });
  try {
    guarded(file, () => configureForReading(db));
    if (statSync(file).size <= QUICK_CHECK_MAX_BYTES) {
      // damage inside the FTS5 tables surfaces as a plain SQLITE_ERROR from the check itself
      let sound: boolean;
      let cause: unknown;
      try {
        sound = quickCheck(db);
      } catch (error) {
        sound = false;
        cause = error;
      }
      if (!sound) throw new McsError('E_INDEX_CORRUPT', `index database ${file} failed PRAGMA quick_check`, { cause, details: { file } });
    }
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function needsFullBuild(diff: SourceDiff, total: number): boolean {
  const changes = diff.changed.length + diff.removed.length;
  return changes > INCREMENTAL_MAX_FILES && changes > total * INCREMENTAL_MAX_SHARE;
}

/** The database CURRENT names is gone: another process pruned or replaced it. */
function isMissing(error: unknown, file: string): boolean {
  return (error instanceof McsError && error.details.sqlite === 'SQLITE_CANTOPEN') || !existsSync(file);
}

const OPEN_ATTEMPTS = 3;

/**
 * Opens the index for an index-data folder, building or updating its
 * database first when the folder changed (see sources.ts for what counts as
 * a change). A corrupt database is set aside and rebuilt from index-data; one
 * written by a newer mcs-pkg is refused untouched; one built by older row
 * logic is rebuilt. When another process replaces the database meanwhile,
 * CURRENT is read again (a bounded number of times).
 */
export async function openIndex(options: OpenIndexOptions = {}): Promise<McsIndex> {
  const store = resolveStore(options);
  const refresh = options.refresh ?? true;
  let action: StoreAction = 'reused';
  let setAsideAt: string | undefined;
  let db: Db | undefined;
  let file = '';
  for (let attempt = 0; db === undefined; attempt++) {
    let name = readCurrent(store.storeDir);
    if (name === null) {
      if (!refresh) throw new McsError('E_INDEX_NOT_FOUND', `no index database has been built for ${store.indexDir}`, { details: { indexDir: store.indexDir } });
      name = await buildAndPublish(store, options.onProgress);
      action = 'built';
    }
    file = join(store.storeDir, name);
    try {
      db = openChecked(file, store, !refresh);
    } catch (error) {
      const lastTry = attempt + 1 >= OPEN_ATTEMPTS;
      if (refresh && !lastTry && isMcsError(error, 'E_INDEX_CORRUPT')) {
        setAsideAt = setAside(store.storeDir, name) ?? setAsideAt;
        if (readCurrent(store.storeDir) === null || readCurrent(store.storeDir) === name) {
          await buildAndPublish(store, options.onProgress);
          action = 'built';
        }
        continue;
      }
      if (!lastTry && isMissing(error, file)) {
        if (refresh && readCurrent(store.storeDir) === name) {
          await buildAndPublish(store, options.onProgress);
          action = 'built';
        }
        continue;
      }
      throw error;
    }
  }
  let changedFiles = 0;
  try {
    const snapshot = readInstalledSnapshot(store.indexDir);
    const meta = guarded(file, () => readMeta(db!));
    if (refresh && action === 'reused') {
      const listing = listSources(store.indexDir);
      if (listing.misplaced.length > 0) throw misplacedError(store.indexDir, listing.misplaced[0]!);
      const diff = diffSources(listing.sources, guarded(file, () => readSources(db!)));
      changedFiles = diff.changed.length + diff.removed.length;
      if (meta.rowsVersion !== String(ROWS_VERSION) || (changedFiles > 0 && needsFullBuild(diff, listing.sources.length))) {
        db.close();
        file = join(store.storeDir, await buildAndPublish(store, options.onProgress, listing));
        db = openChecked(file, store, false);
        action = 'built';
      } else if (changedFiles > 0) {
        const { applyDiff } = await import('./build.js');
        applyDiff(db, file, store.indexDir, diff, options.onProgress ? { busyTimeoutMs: store.busyTimeoutMs, onProgress: options.onProgress } : { busyTimeoutMs: store.busyTimeoutMs });
        action = 'updated';
      }
    }
    const status: IndexStatus = {
      indexDir: store.indexDir,
      database: file,
      packages: guarded(file, () => countPackages(db!)),
      builtAt: guarded(file, () => readMeta(db!)).builtAt ?? null,
      action,
      changedFiles,
      ...(setAsideAt ? { setAside: setAsideAt } : {}),
      ...(snapshot ? { snapshot } : {}),
    };
    return new McsIndex(db, status);
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Rebuilds the index of a folder from scratch (`mcs-pkg index build`), whatever state the cache is in. */
export async function buildIndex(options: OpenIndexOptions = {}): Promise<IndexStatus> {
  await buildAndPublish(resolveStore(options), options.onProgress);
  const index = await openIndex({ ...options, refresh: false });
  try {
    return { ...index.status, action: 'built' };
  } finally {
    index.close();
  }
}
