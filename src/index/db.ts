/**
 * The only module that talks to SQLite. It owns the schema (numbered
 * migrations tracked by PRAGMA user_version), turns SQLite failures into
 * coded errors, and runs the statements the index needs; callers hand it
 * plain rows and get plain rows back.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { McsError, isMcsError } from '../errors.js';

export type Db = Database.Database;

/** Migrations, in order; user_version is the number applied. A migration never edits an earlier one. */
const MIGRATIONS: readonly string[] = [
  // 1: packages, facets for filtering, declared driver ids, the source files they came from, full-text search.
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE packages (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    ecosystem TEXT NOT NULL,
    class TEXT NOT NULL,
    description TEXT NOT NULL,
    label TEXT NOT NULL,
    label_rank INTEGER NOT NULL,
    latest TEXT,
    skeleton TEXT NOT NULL,
    source TEXT NOT NULL,
    summary TEXT NOT NULL,
    doc TEXT NOT NULL,
    UNIQUE (name, ecosystem)
  );
  CREATE INDEX packages_skeleton ON packages (skeleton);
  CREATE INDEX packages_source ON packages (source);
  CREATE INDEX packages_label ON packages (label_rank, name);
  CREATE TABLE facets (
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    package_id INTEGER NOT NULL,
    PRIMARY KEY (kind, value, package_id)
  ) WITHOUT ROWID;
  CREATE INDEX facets_package ON facets (package_id);
  CREATE TABLE driver_ids (driver_id TEXT PRIMARY KEY, package_id INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE sources (path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns TEXT NOT NULL) WITHOUT ROWID;
  CREATE VIRTUAL TABLE packages_fts USING fts5(
    name, description, capabilities, adapters, tools, security,
    content = '', contentless_delete = 1, prefix = '2 3', tokenize = 'unicode61 remove_diacritics 2'
  );
  CREATE TRIGGER packages_after_delete AFTER DELETE ON packages BEGIN
    DELETE FROM facets WHERE package_id = old.id;
    DELETE FROM driver_ids WHERE package_id = old.id;
    DELETE FROM packages_fts WHERE rowid = old.id;
  END;
  `,
];

/** The schema version this code writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Column weights for bm25: a hit in the name counts most, then capabilities, adapters, tools. */
const BM25_WEIGHTS = '10.0, 2.0, 6.0, 4.0, 3.0, 1.0';

export type FacetKind = 'capability' | 'adapter' | 'llm' | 'permission';

/** A package as the index stores it; built by rows.ts from an index entry. */
export interface PackageRow {
  name: string;
  ecosystem: string;
  class: string;
  description: string;
  label: string;
  labelRank: number;
  latest: string | null;
  skeleton: string;
  source: string;
  summary: string;
  doc: string;
  driverIds: string[];
  facets: Array<[FacetKind, string]>;
  fts: { name: string; description: string; capabilities: string; adapters: string; tools: string; security: string };
}

export interface SourceStamp {
  path: string;
  size: number;
  mtimeNs: string;
}

export interface OpenDbOptions {
  readonly?: boolean;
  /** Create the file if it is missing (a new build). */
  create?: boolean;
  busyTimeoutMs: number;
}

/** Maps a SQLite failure to a coded error that names the file. */
export function toIndexError(error: unknown, file: string): unknown {
  if (isMcsError(error)) return error;
  const code = (error as { code?: unknown }).code;
  const reason = error instanceof Error ? error.message : String(error);
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT_VTAB') {
    return new McsError('E_INDEX_CORRUPT', `index database ${file} is corrupt: ${reason}`, { cause: error, details: { file } });
  }
  if (typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))) {
    return new McsError('E_INDEX_LOCKED', `index database ${file} is locked by another process: ${reason}`, { cause: error, details: { file } });
  }
  if (typeof code === 'string' && code.startsWith('SQLITE_')) {
    return new McsError('E_INDEX_IO', `index database ${file}: ${reason}`, { cause: error, details: { file, sqlite: code } });
  }
  return error;
}

/** Runs fn, translating SQLite failures into coded errors about file. */
export function guarded<T>(file: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw toIndexError(error, file);
  }
}

/**
 * Opens an index database and brings its schema up to SCHEMA_VERSION. A file
 * written by a newer mcs-pkg is never modified: it is refused with
 * E_INDEX_DB_NEWER, since this code cannot know what the newer schema means.
 */
export function openDb(file: string, options: OpenDbOptions): Db {
  return guarded(file, () => {
    const db = new Database(file, { readonly: options.readonly ?? false, fileMustExist: !options.create });
    try {
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs))}`);
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) {
        throw new McsError(
          'E_INDEX_DB_NEWER',
          `index database ${file} has schema version ${version}, newer than the ${SCHEMA_VERSION} this mcs-pkg understands; ` +
            'upgrade mcs-pkg, or run `mcs-pkg index build` to rebuild the index for this version',
          { details: { file, found: version, supported: SCHEMA_VERSION } },
        );
      }
      if (version < SCHEMA_VERSION) {
        if (options.readonly) {
          throw new McsError('E_INDEX_IO', `index database ${file} has schema version ${version} and is opened read-only, so it cannot be migrated`, {
            details: { file, found: version, supported: SCHEMA_VERSION },
          });
        }
        migrate(db, version);
      }
      return db;
    } catch (error) {
      db.close();
      throw error;
    }
  });
}

function migrate(db: Db, from: number): void {
  db.transaction(() => {
    for (let v = from; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]!);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  }).immediate();
}

/** Settings for a private file being filled in one go; durability comes from the rename afterwards. */
export function configureForBulkBuild(db: Db): void {
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma('locking_mode = EXCLUSIVE');
  db.pragma('cache_size = -262144');
  db.pragma('temp_store = MEMORY');
}

/** Settings once the file is live and shared: WAL so readers never wait for a writer. */
export function configureForServing(db: Db): void {
  db.pragma('locking_mode = NORMAL');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
}

/** Full-text maintenance after a bulk load: merge the index segments so queries read one b-tree. */
export function optimizeFts(db: Db): void {
  db.exec(`INSERT INTO packages_fts (packages_fts) VALUES ('optimize')`);
}

/** `PRAGMA quick_check`: true when SQLite finds the file's structure sound. */
export function quickCheck(db: Db): boolean {
  const rows = db.pragma('quick_check') as Array<{ quick_check: string }>;
  return rows.length === 1 && rows[0]!.quick_check === 'ok';
}

export function readMeta(db: Db): Record<string, string> {
  const rows = db.prepare('SELECT key, value FROM meta').all() as Array<{ key: string; value: string }>;
  return Object.fromEntries(rows.map((r) => [r.key, r.value]));
}

export function readSources(db: Db): Map<string, SourceStamp> {
  const rows = db.prepare('SELECT path, size, mtime_ns AS mtimeNs FROM sources').all() as SourceStamp[];
  return new Map(rows.map((r) => [r.path, r]));
}

export function countPackages(db: Db): number {
  return (db.prepare('SELECT count(*) AS n FROM packages').get() as { n: number }).n;
}

/** Who already holds a name, driver id or look-alike name; used to explain a conflict. */
export interface Conflict {
  name: string;
  ecosystem: string;
  source: string;
}

/**
 * A writer for one transaction: removes the packages of changed or deleted
 * source files and inserts new rows, enforcing the cross-file rules (unique
 * name per ecosystem, unique driver id, no confusable names).
 */
export class IndexWriter {
  private readonly insertPackage;
  private readonly insertFacet;
  private readonly insertDriverId;
  private readonly insertFts;
  private readonly upsertSource;
  private readonly deleteBySource;
  private readonly deleteSource;
  private readonly findConfusable;
  private readonly findDriverId;
  private readonly findName;

  /** displayRoot: the index folder, so that messages name files a person can open. */
  constructor(
    private readonly db: Db,
    private readonly displayRoot = '',
  ) {
    this.insertPackage = db.prepare(
      `INSERT INTO packages (name, ecosystem, class, description, label, label_rank, latest, skeleton, source, summary, doc)
       VALUES (@name, @ecosystem, @class, @description, @label, @labelRank, @latest, @skeleton, @source, @summary, @doc)`,
    );
    this.insertFacet = db.prepare('INSERT OR IGNORE INTO facets (kind, value, package_id) VALUES (?, ?, ?)');
    this.insertDriverId = db.prepare('INSERT INTO driver_ids (driver_id, package_id) VALUES (?, ?)');
    this.insertFts = db.prepare(
      `INSERT INTO packages_fts (rowid, name, description, capabilities, adapters, tools, security)
       VALUES (?, @name, @description, @capabilities, @adapters, @tools, @security)`,
    );
    this.upsertSource = db.prepare('INSERT OR REPLACE INTO sources (path, size, mtime_ns) VALUES (?, ?, ?)');
    this.deleteBySource = db.prepare('DELETE FROM packages WHERE source = ?');
    this.deleteSource = db.prepare('DELETE FROM sources WHERE path = ?');
    this.findConfusable = db.prepare('SELECT name, ecosystem, source FROM packages WHERE skeleton = ? AND name <> ? LIMIT 1');
    this.findDriverId = db.prepare(
      'SELECT p.name, p.ecosystem, p.source FROM driver_ids d JOIN packages p ON p.id = d.package_id WHERE d.driver_id = ?',
    );
    this.findName = db.prepare('SELECT name, ecosystem, source FROM packages WHERE name = ? AND ecosystem = ?');
  }

  /** Forgets a source file and the package it defined. */
  remove(path: string): void {
    this.deleteBySource.run(path);
    this.deleteSource.run(path);
  }

  insert(row: PackageRow, stamp: SourceStamp): void {
    const file = join(this.displayRoot, row.source);
    const confusable = this.findConfusable.get(row.skeleton, row.name) as Conflict | undefined;
    if (confusable) {
      throw new McsError(
        'E_NAME_CONFUSABLE',
        `${file}: /name: ${row.name} is confusable with ${confusable.name} (${join(this.displayRoot, confusable.source)}); one of them must be renamed`,
        { details: { source: file, pointer: '/name', name: row.name, conflictsWith: confusable } },
      );
    }
    const holder = this.findName.get(row.name, row.ecosystem) as Conflict | undefined;
    if (holder) {
      throw new McsError('E_INDEX_DUPLICATE', `${file}: ${row.ecosystem}:${row.name} is already defined by ${join(this.displayRoot, holder.source)}`, {
        details: { source: file, pointer: '/name', conflictsWith: holder },
      });
    }
    const id = Number(this.insertPackage.run(row).lastInsertRowid);
    for (const driverId of row.driverIds) {
      const owner = this.findDriverId.get(driverId) as Conflict | undefined;
      if (owner) {
        throw new McsError(
          'E_INDEX_DUPLICATE',
          `${file}: driver id ${driverId} is already declared by ${owner.ecosystem}:${owner.name} (${join(this.displayRoot, owner.source)})`,
          { details: { source: file, pointer: '/drivers', driverId, conflictsWith: owner } },
        );
      }
      this.insertDriverId.run(driverId, id);
    }
    for (const [kind, value] of row.facets) this.insertFacet.run(kind, value, id);
    this.insertFts.run(id, row.fts);
    this.upsertSource.run(stamp.path, stamp.size, stamp.mtimeNs);
  }

  setMeta(values: Record<string, string>): void {
    const statement = this.db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
    for (const [key, value] of Object.entries(values)) statement.run(key, value);
  }
}

export interface SearchPlan {
  /** Lowercased whole query, for exact and prefix name matches; '' when only facets were given. */
  text: string;
  /** FTS5 MATCH expression built from the query's words, or null. */
  match: string | null;
  filters: Partial<Record<FacetKind | 'label' | 'ecosystem' | 'class', string[]>>;
  limit: number;
}

export interface SearchRow {
  id: number;
  name: string;
  ecosystem: string;
  class: string;
  description: string;
  label: string;
  latest: string | null;
  summary: string;
  tier: number;
  score: number;
}

const WILDCARD_FACETS: ReadonlySet<FacetKind> = new Set(['adapter', 'llm']);

/**
 * Ranks candidates in tiers: 0 exact name, 1 name prefix, 2 capability equal
 * to the query, 3 full-text hit. Within the first three tiers relevance is
 * equal, so the label decides (Verified/Reference before Community); in the
 * text tier bm25 decides and the label breaks ties.
 */
export function runSearch(db: Db, plan: SearchPlan): SearchRow[] {
  const params: Record<string, unknown> = { limit: plan.limit };
  const where: string[] = [];
  for (const [kind, values] of Object.entries(plan.filters) as Array<[string, string[] | undefined]>) {
    if (!values || values.length === 0) continue;
    const names = values.map((value, i) => {
      params[`${kind}${i}`] = value;
      return `@${kind}${i}`;
    });
    if (kind === 'label' || kind === 'ecosystem' || kind === 'class') {
      where.push(`p.${kind} IN (${names.join(', ')})`);
    } else {
      // a driver bound to adapter "*" works with any adapter; target_llms "*" with any model
      const list = WILDCARD_FACETS.has(kind as FacetKind) ? [...names, `'*'`] : names;
      params[`kind_${kind}`] = kind;
      where.push(`EXISTS (SELECT 1 FROM facets f WHERE f.kind = @kind_${kind} AND f.value IN (${list.join(', ')}) AND f.package_id = p.id)`);
    }
  }
  const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  const columns = 'p.id, p.name, p.ecosystem, p.class, p.description, p.label, p.latest, p.summary';
  if (plan.text === '') {
    const sql = `SELECT ${columns}, 0 AS tier, 0 AS score FROM packages p ${filter} ORDER BY p.label_rank, p.name LIMIT @limit`;
    return db.prepare(sql).all(params) as SearchRow[];
  }
  params.text = plan.text;
  params.textEnd = plan.text + '\uffff';
  const branches = [
    `SELECT id, 0 AS tier, 0.0 AS score FROM packages WHERE name = @text`,
    `SELECT id, 1, 0.0 FROM packages WHERE name > @text AND name < @textEnd`,
    `SELECT package_id, 2, 0.0 FROM facets WHERE kind = 'capability' AND value = @text`,
  ];
  if (plan.match) {
    params.match = plan.match;
    branches.push(`SELECT rowid, 3, bm25(packages_fts, ${BM25_WEIGHTS}) FROM packages_fts WHERE packages_fts MATCH @match`);
  }
  const sql = `
    WITH hits (id, tier, score) AS (${branches.join(' UNION ALL ')}),
    best AS (SELECT id, min(tier) AS tier, min(score) AS score FROM hits GROUP BY id)
    SELECT ${columns}, b.tier, b.score FROM best b JOIN packages p ON p.id = b.id
    ${filter}
    ORDER BY b.tier, CASE WHEN b.tier < 3 THEN p.label_rank ELSE 0 END, b.score, p.label_rank, p.name
    LIMIT @limit`;
  return db.prepare(sql).all(params) as SearchRow[];
}

export function findPackages(db: Db, name: string, ecosystem?: string): Array<{ doc: string; ecosystem: string; source: string; latest: string | null; summary: string }> {
  const sql = ecosystem
    ? 'SELECT doc, ecosystem, source, latest, summary FROM packages WHERE name = ? AND ecosystem = ?'
    : 'SELECT doc, ecosystem, source, latest, summary FROM packages WHERE name = ? ORDER BY ecosystem';
  const statement = db.prepare(sql);
  return (ecosystem ? statement.all(name, ecosystem) : statement.all(name)) as Array<{
    doc: string;
    ecosystem: string;
    source: string;
    latest: string | null;
    summary: string;
  }>;
}

/** Names starting with `prefix`, at most `limit` of them (a range scan on the name index). */
export function namesWithPrefix(db: Db, prefix: string, limit: number): string[] {
  const rows = db.prepare('SELECT name FROM packages WHERE name >= ? AND name < ? LIMIT ?').all(prefix, prefix + '\uffff', limit) as Array<{ name: string }>;
  return rows.map((r) => r.name);
}
