/**
 * The only module that talks to SQLite. It owns the schema (numbered
 * migrations tracked by PRAGMA user_version), turns SQLite failures into
 * coded errors, and runs the statements the index needs; callers hand it
 * plain rows and get plain rows back.
 */
import Database from 'better-sqlite3';
import { McsError, isMcsError } from '../errors.js';

type Sqlite = Database.Database;

declare const indexDatabase: unique symbol;

/**
 * An open index database as code outside this module holds it: passed back
 * in, run in a transaction, closed. The better-sqlite3 handle behind it (and
 * that library's types) stays behind this seam, so mcs-pkg's published
 * declarations need no @types/better-sqlite3.
 */
export interface Db {
  readonly [indexDatabase]: true;
  exec(sql: string): unknown;
  close(): unknown;
  /** fn in one transaction: call the result to run it (deferred), or its immediate() to take the write lock first. */
  transaction<T>(fn: () => T): { (): T; immediate(): T };
}

/** The handle behind a Db. */
function sqlite(db: Db): Sqlite {
  return db as unknown as Sqlite;
}

/**
 * Column weights for bm25 (name, description, capabilities, adapters, tools,
 * security, parameters): the name counts most; a tool's parameters say least
 * about what a package is for (a "file" parameter does not make a file driver).
 */
const BM25_WEIGHTS = '10.0, 2.0, 6.0, 4.0, 3.0, 1.0, 0.5';
/** The same weights for the head of a package (name, capabilities, tool names). */
const HEAD_BM25_WEIGHTS = '10.0, 6.0, 3.0';

/**
 * Secondary indexes of the current schema. A full build drops them, appends
 * every row, and creates them once at the end (one sort each, instead of a
 * B-tree insert per row); an incremental update keeps them.
 */
const SECONDARY_INDEXES: ReadonlyArray<readonly [name: string, definition: string]> = [
  ['packages_name', 'packages (name, ecosystem)'],
  ['packages_skeleton', 'packages (skeleton)'],
  ['packages_source', 'packages (source)'],
  ['packages_label', 'packages (label_rank, name)'],
  ['facets_lookup', 'facets (kind, value, package_id)'],
  ['facets_package', 'facets (package_id)'],
  ['drivers_id', 'drivers (driver_id)'],
  ['drivers_package', 'drivers (package_id)'],
];

const CREATE_SECONDARY_INDEXES = SECONDARY_INDEXES.map(([name, on]) => `CREATE INDEX IF NOT EXISTS ${name} ON ${on};`).join('\n');

/** Migrations, in order; user_version is the number applied. A migration never edits an earlier one. */
const MIGRATIONS: readonly string[] = [
  // 1: packages, facets for filtering, declared driver ids, the source files they came from, full-text search.
  // Uniqueness of names and driver ids, and the look-alike rule, are checked by findConflicts(), not by
  // UNIQUE constraints, so that a bulk load can create the indexes after the rows.
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
    summary TEXT NOT NULL
  );
  CREATE TABLE docs (package_id INTEGER PRIMARY KEY, doc TEXT NOT NULL);
  CREATE TABLE facets (package_id INTEGER NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL);
  CREATE TABLE drivers (package_id INTEGER NOT NULL, driver_id TEXT NOT NULL);
  CREATE TABLE sources (path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns TEXT NOT NULL, ctime_ns TEXT NOT NULL, ino TEXT NOT NULL) WITHOUT ROWID;
  CREATE VIRTUAL TABLE packages_fts USING fts5(
    name, description, capabilities, adapters, tools, security,
    content = '', contentless_delete = 1, prefix = '2 3', tokenize = 'porter unicode61 remove_diacritics 2'
  );
  CREATE TRIGGER packages_after_delete AFTER DELETE ON packages BEGIN
    DELETE FROM docs WHERE package_id = old.id;
    DELETE FROM facets WHERE package_id = old.id;
    DELETE FROM drivers WHERE package_id = old.id;
    DELETE FROM packages_fts WHERE rowid = old.id;
  END;
  INSERT INTO packages_fts (packages_fts, rank) VALUES ('rank', 'bm25(10.0, 2.0, 6.0, 4.0, 3.0, 1.0)');
  ${CREATE_SECONDARY_INDEXES}
  `,
  // 2: the words the index holds and in how many packages, for correcting typed words (a full build fills it;
  // an update adds the words of changed packages and does not forget removed ones, so counts are at least right)
  // Tool parameters get a column of their own. The full-text rows are rebuilt (ROWS_VERSION), so the table is
  // made anew rather than altered.
  `
  CREATE TABLE vocabulary (word TEXT PRIMARY KEY, packages INTEGER NOT NULL) WITHOUT ROWID;
  DROP TABLE packages_fts;
  CREATE VIRTUAL TABLE packages_fts USING fts5(
    name, description, capabilities, adapters, tools, security, parameters,
    content = '', contentless_delete = 1, prefix = '2 3', tokenize = 'porter unicode61 remove_diacritics 2'
  );
  INSERT INTO packages_fts (packages_fts, rank) VALUES ('rank', 'bm25(${BM25_WEIGHTS})');
  `,
  // 3: the head of each package, what says most what it is (name, capabilities, tool names), searchable on its own:
  // a common word is in a large share of the full-text rows, and a search ranks a bounded sample of those,
  // the packages with the words in their head first. Filled by the rebuild that ROWS_VERSION 4 asks for.
  `
  CREATE VIRTUAL TABLE packages_head USING fts5(
    name, capabilities, tools,
    content = '', contentless_delete = 1, prefix = '2 3', tokenize = 'porter unicode61 remove_diacritics 2'
  );
  INSERT INTO packages_head (packages_head, rank) VALUES ('rank', 'bm25(${HEAD_BM25_WEIGHTS})');
  DROP TRIGGER packages_after_delete;
  CREATE TRIGGER packages_after_delete AFTER DELETE ON packages BEGIN
    DELETE FROM docs WHERE package_id = old.id;
    DELETE FROM facets WHERE package_id = old.id;
    DELETE FROM drivers WHERE package_id = old.id;
    DELETE FROM packages_fts WHERE rowid = old.id;
    DELETE FROM packages_head WHERE rowid = old.id;
  END;
  `,
];

/** The schema version this code writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * The version of what rows.ts derives from an entry (facets, summary,
 * full-text fields). A database built with another one is rebuilt, since
 * its rows would not be what this code would write.
 */
export const ROWS_VERSION = 4;

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
  fts: { name: string; description: string; capabilities: string; adapters: string; tools: string; security: string; parameters: string };
  /** What says most what the package is, searched first when a query matches many packages: name, capabilities, tool names. */
  head: { name: string; capabilities: string; tools: string };
  /** The distinct words of the full-text fields that a mistyped word can be corrected to. */
  words: string[];
}

/** What identifies the version of a source file that a row was built from (see sources.ts). */
export interface SourceStamp {
  path: string;
  size: number;
  mtimeNs: string;
  ctimeNs: string;
  ino: string;
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
      return db as unknown as Db;
    } catch (error) {
      db.close();
      throw error;
    }
  });
}

function migrate(db: Sqlite, from: number): void {
  db.transaction(() => {
    for (let v = from; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]!);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  }).immediate();
}

/** Prepared read statements per connection, by SQL text: compiling one costs more than running most searches. */
const preparedByDb = new WeakMap<Sqlite, Map<string, Database.Statement>>();
/** Distinct statements kept per connection; the search builds a bounded variety (filters and word counts), and more clears the set. */
const MAX_PREPARED = 256;

/** A prepared statement for `sql` on this connection, compiled once. */
function prepared(db: Sqlite, sql: string): Database.Statement {
  let cache = preparedByDb.get(db);
  if (!cache) preparedByDb.set(db, (cache = new Map()));
  let statement = cache.get(sql);
  if (!statement) {
    if (cache.size >= MAX_PREPARED) cache.clear();
    statement = db.prepare(sql);
    cache.set(sql, statement);
  }
  return statement;
}

/** Settings for a private file being filled in one go; durability comes from the rename afterwards. */
export function configureForBulkBuild(handle: Db): void  {
  const db = sqlite(handle);
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma('locking_mode = EXCLUSIVE');
  db.pragma('cache_size = -262144');
  db.pragma('temp_store = MEMORY');
}

/**
 * Read settings for a serving connection: the file is memory-mapped, a larger
 * page cache kept, and the temporary b-trees of ORDER BY and GROUP BY kept in
 * memory (in a file, opening one can cost more than the rest of a query).
 */
export function configureForReading(handle: Db): void  {
  const db = sqlite(handle);
  db.pragma('mmap_size = 1073741824');
  db.pragma('cache_size = -65536');
  db.pragma('temp_store = MEMORY');
}

/** Settings once the file is live and shared: WAL so readers never wait for a writer. */
export function configureForServing(handle: Db): void  {
  const db = sqlite(handle);
  db.pragma('locking_mode = NORMAL');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
}

/** Full-text maintenance after a bulk load: merge the index segments so queries read one b-tree. */
export function optimizeFts(handle: Db): void  {
  const db = sqlite(handle);
  db.exec(`INSERT INTO packages_fts (packages_fts) VALUES ('optimize')`);
  db.exec(`INSERT INTO packages_head (packages_head) VALUES ('optimize')`);
}

/** `PRAGMA quick_check`: true when SQLite finds the file's structure sound. */
export function quickCheck(handle: Db): boolean  {
  const db = sqlite(handle);
  const rows = db.pragma('quick_check') as Array<{ quick_check: string }>;
  return rows.length === 1 && rows[0]!.quick_check === 'ok';
}

export function readMeta(handle: Db): Record<string, string>  {
  const db = sqlite(handle);
  const rows = db.prepare('SELECT key, value FROM meta').all() as Array<{ key: string; value: string }>;
  return Object.fromEntries(rows.map((r) => [r.key, r.value]));
}

export function readSources(handle: Db): Map<string, SourceStamp>  {
  const db = sqlite(handle);
  const rows = db.prepare('SELECT path, size, mtime_ns AS mtimeNs, ctime_ns AS ctimeNs, ino FROM sources').all() as SourceStamp[];
  return new Map(rows.map((r) => [r.path, r]));
}

export function countPackages(handle: Db): number  {
  const db = sqlite(handle);
  return (db.prepare('SELECT count(*) AS n FROM packages').get() as { n: number }).n;
}

/** Drops the secondary indexes for a bulk load; createSecondaryIndexes() puts them back. */
export function dropSecondaryIndexes(handle: Db): void  {
  const db = sqlite(handle);
  for (const [name] of SECONDARY_INDEXES) db.exec(`DROP INDEX IF EXISTS ${name}`);
}

export function createSecondaryIndexes(handle: Db): void  {
  const db = sqlite(handle);
  db.exec(CREATE_SECONDARY_INDEXES);
}

/** A package that a rule puts at odds with another. */
export interface ConflictSide {
  name: string;
  ecosystem: string;
  source: string;
}

/**
 * Appends packages and forgets them; runs inside a transaction the caller
 * owns. The rules across packages are checked afterwards, as a set, by
 * findConflicts().
 */
export class IndexWriter {
  private readonly insertPackage;
  private readonly insertDoc;
  private readonly insertFacet;
  private readonly insertDriver;
  private readonly insertFts;
  private readonly insertHead;
  private readonly upsertSource;
  private readonly deleteBySource;
  private readonly deleteSource;
  /** Packages per word inserted since the last saveVocabulary(). */
  private readonly vocabulary = new Map<string, number>();

  private readonly db: Sqlite;

  /** `checkOnly`: store just what findConflicts reads (packages and driver ids), for validation. */
  constructor(handle: Db, private readonly checkOnly = false) {
    const db = sqlite(handle);
    this.db = db;
    this.insertPackage = db.prepare(
      `INSERT INTO packages (name, ecosystem, class, description, label, label_rank, latest, skeleton, source, summary)
       VALUES (@name, @ecosystem, @class, @description, @label, @labelRank, @latest, @skeleton, @source, @summary)`,
    );
    this.insertDoc = db.prepare('INSERT INTO docs (package_id, doc) VALUES (?, ?)');
    this.insertFacet = db.prepare('INSERT INTO facets (package_id, kind, value) VALUES (?, ?, ?)');
    this.insertDriver = db.prepare('INSERT INTO drivers (package_id, driver_id) VALUES (?, ?)');
    this.insertFts = db.prepare(
      `INSERT INTO packages_fts (rowid, name, description, capabilities, adapters, tools, security, parameters)
       VALUES (?, @name, @description, @capabilities, @adapters, @tools, @security, @parameters)`,
    );
    this.insertHead = db.prepare('INSERT INTO packages_head (rowid, name, capabilities, tools) VALUES (?, @name, @capabilities, @tools)');
    this.upsertSource = db.prepare('INSERT OR REPLACE INTO sources (path, size, mtime_ns, ctime_ns, ino) VALUES (@path, @size, @mtimeNs, @ctimeNs, @ino)');
    this.deleteBySource = db.prepare('DELETE FROM packages WHERE source = ?');
    this.deleteSource = db.prepare('DELETE FROM sources WHERE path = ?');
  }

  /** The id the next inserted package will get; findConflicts(from) checks the packages from there on. */
  nextId(): number {
    return ((this.db.prepare('SELECT max(id) AS id FROM packages').get() as { id: number | null }).id ?? 0) + 1;
  }

  /** Forgets a source file and the package it defined. */
  remove(path: string): void {
    this.deleteBySource.run(path);
    this.deleteSource.run(path);
  }

  insert(row: PackageRow, stamp: SourceStamp): void {
    const id = Number(this.insertPackage.run(row).lastInsertRowid);
    for (const driverId of row.driverIds) this.insertDriver.run(id, driverId);
    if (this.checkOnly) return;
    this.insertDoc.run(id, row.doc);
    for (const [kind, value] of row.facets) this.insertFacet.run(id, kind, value);
    this.insertFts.run(id, row.fts);
    this.insertHead.run(id, row.head);
    this.upsertSource.run(stamp);
    for (const word of row.words) this.vocabulary.set(word, (this.vocabulary.get(word) ?? 0) + 1);
  }

  /** Adds the words of the packages inserted so far to the vocabulary table; call before the transaction commits. */
  saveVocabulary(): void {
    const upsert = this.db.prepare('INSERT INTO vocabulary (word, packages) VALUES (?, ?) ON CONFLICT (word) DO UPDATE SET packages = packages + excluded.packages');
    for (const [word, packages] of this.vocabulary) upsert.run(word, packages);
    this.vocabulary.clear();
  }

  setMeta(values: Record<string, string>): void {
    const statement = this.db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
    for (const [key, value] of Object.entries(values)) statement.run(key, value);
  }
}

export type ConflictRule = 'name' | 'driver-id' | 'confusable';

export interface Conflict {
  rule: ConflictRule;
  /** The later package, which the conflict is reported against. */
  package: ConflictSide;
  /** The package it clashes with. */
  other: ConflictSide;
  /** The driver id both declare (rule driver-id). */
  driverId?: string;
}

const SIDE = (t: string) => `${t}.name AS ${t}_name, ${t}.ecosystem AS ${t}_ecosystem, ${t}.source AS ${t}_source`;

/**
 * The rules across packages, checked as a set for the packages with id >=
 * `from` (all of them when 0): a name is listed once per ecosystem; a driver
 * id is declared by one package; no two names share a confusable skeleton.
 * Each clash is reported once, against the later of the two packages.
 */
export function findConflicts(handle: Db, from: number, limit = 100): Conflict[]  {
  const db = sqlite(handle);
  type Row = Record<string, string>;
  const side = (row: Row, t: string): ConflictSide => ({ name: row[`${t}_name`]!, ecosystem: row[`${t}_ecosystem`]!, source: row[`${t}_source`]! });
  const run = (rule: ConflictRule, sql: string): Conflict[] =>
    (db.prepare(sql).all({ from, limit }) as Row[]).map((row) => ({
      rule,
      package: side(row, 'a'),
      other: side(row, 'b'),
      ...(row.driver_id ? { driverId: row.driver_id } : {}),
    }));
  return [
    ...run('name', `SELECT ${SIDE('a')}, ${SIDE('b')} FROM packages a JOIN packages b ON b.name = a.name AND b.ecosystem = a.ecosystem AND b.id < a.id WHERE a.id >= @from LIMIT @limit`),
    ...run(
      'driver-id',
      `SELECT ${SIDE('a')}, ${SIDE('b')}, d1.driver_id FROM drivers d1 JOIN drivers d2 ON d2.driver_id = d1.driver_id AND (d2.package_id < d1.package_id OR (d2.package_id = d1.package_id AND d2.rowid < d1.rowid))
       JOIN packages a ON a.id = d1.package_id JOIN packages b ON b.id = d2.package_id WHERE d1.package_id >= @from LIMIT @limit`,
    ),
    ...run('confusable', `SELECT ${SIDE('a')}, ${SIDE('b')} FROM packages a JOIN packages b ON b.skeleton = a.skeleton AND b.name <> a.name AND b.id < a.id WHERE a.id >= @from LIMIT @limit`),
  ];
}

export interface SearchPlan {
  /** Lowercased whole query, for exact and prefix name matches; '' when only facets were given. */
  text: string;
  /**
   * FTS5 MATCH expressions tried in order while the page has room, each
   * ranked by bm25 after the rows of the ones before: every word, then every
   * word with the last as a prefix, then most of the words.
   */
  passes: string[];
  /** Capabilities that put a package in the capability tier: the whole query, and each searched word as typed. */
  capabilities: string[];
  /** For a query of several words, what a package of such a capability must also match (every word); null for one word. */
  capabilityMatch: string | null;
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

/** Name-prefix candidates considered, in name order, before ranking (a prefix such as "mcs-" matches nearly everything). */
const PREFIX_CANDIDATES = 1000;

const SEARCH_COLUMNS = 'p.id, p.name, p.ecosystem, p.class, p.description, p.label, p.latest, p.summary';

/** SQL conditions on packages `p` for the plan's filters, with their parameters added to `params`. */
function filterConditions(plan: SearchPlan, params: Record<string, unknown>): string[] {
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
  return where;
}

/**
 * Ranks candidates in tiers: 0 exact name, 1 name prefix, 2 capability equal
 * to the query or to one of its words (then matching every word), 3 full-text hit. Within the first three tiers relevance is
 * equal, so the label decides (Verified/Reference before Community); in the
 * text tier bm25 decides and the label breaks ties. Each tier applies the
 * filters and its own limit, and the text tier runs only when the others
 * leave room on the page.
 */
export function runSearch(handle: Db, plan: SearchPlan): SearchRow[]  {
  const db = sqlite(handle);
  const params: Record<string, unknown> = { limit: plan.limit };
  const conditions = filterConditions(plan, params);
  const and = conditions.map((c) => ` AND ${c}`).join('');
  const columns = SEARCH_COLUMNS;
  if (plan.text === '') {
    const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
    return prepared(db, `SELECT ${columns}, 0 AS tier, 0 AS score FROM packages p ${where} ORDER BY p.label_rank, p.name LIMIT @limit`).all(params) as SearchRow[];
  }
  params.text = plan.text;
  params.textEnd = plan.text + '\uffff';
  params.prefixCandidates = PREFIX_CANDIDATES;
  const capabilityNames = plan.capabilities.map((value, i) => {
    params[`cap${i}`] = value;
    return `@cap${i}`;
  });
  params.capabilityMatch = plan.capabilityMatch;
  // a package of a named capability must still match every word of a longer query (the match set is computed once)
  // (+p.id: the match set is checked per capability package, never used to drive an index lookup per match)
  const everyWord = plan.capabilityMatch === null ? '' : ' AND +p.id IN (SELECT rowid FROM packages_fts WHERE packages_fts MATCH @capabilityMatch)';
  const named = `
    WITH hits (id, tier) AS (
      SELECT p.id, 0 FROM packages p WHERE p.name = @text${and}
      UNION ALL
      SELECT id, 1 FROM (SELECT p.id FROM packages p WHERE p.name > @text AND p.name < @textEnd${and} ORDER BY p.name LIMIT @prefixCandidates)
      UNION ALL
      SELECT id, 2 FROM (SELECT p.id FROM facets c JOIN packages p ON p.id = c.package_id
         WHERE c.kind = 'capability' AND c.value IN (${capabilityNames.join(', ')})${and}${everyWord} ORDER BY p.label_rank, p.name LIMIT @limit)),
    best AS (SELECT id, min(tier) AS tier FROM hits GROUP BY id)
    SELECT ${columns}, b.tier, 0.0 AS score FROM best b JOIN packages p ON p.id = b.id
    ORDER BY b.tier, p.label_rank, p.name
    LIMIT @limit`;
  const rows = prepared(db, named).all(params) as SearchRow[];
  // text hits rank after every name and capability hit: when those fill the page, the text tier cannot change it
  // FTS5 materialises the whole doclist of a prefix term, which is costly for a common word:
  // words are first taken as typed, and the last one is extended as a prefix only to fill the page
  for (const match of plan.passes) {
    if (rows.length >= plan.limit) break;
    rows.push(...rankedText(db, match, plan.limit - rows.length, and, params, rows));
  }
  return rows;
}

/**
 * Full-text matches ranked by bm25 at most this many at a time. A common
 * word matches a large share of the index (read file: one package in ten),
 * and bm25 costs per matching row, so a larger match set is ranked in
 * bounded samples instead (see rankedText).
 */
export const RANK_CANDIDATES = 300;

/**
 * The next `need` text hits of one pass, each not already in `found`. A pass
 * matching at most RANK_CANDIDATES packages (after the filters) is ranked
 * whole by bm25, label, name. A larger one is ranked from two bounded
 * samples: first the packages whose head (name, capabilities, tool names)
 * matches, ranked by bm25 over the head, then, for what is still missing, the
 * packages that match anywhere; each sample is the first RANK_CANDIDATES of
 * its kind, so the work stays the same however many packages share a word.
 */
function rankedText(db: Sqlite, match: string, need: number, and: string, params: Record<string, unknown>, found: SearchRow[]): SearchRow[] {
  const out: SearchRow[] = [];
  // a sample holds at least a page, so a long page (pagination) is still filled when enough packages match
  const cap = Math.max(RANK_CANDIDATES, need);
  const where = (table: 'packages_fts' | 'packages_head'): string =>
    `FROM ${table} t JOIN packages p ON p.id = t.rowid WHERE ${table} MATCH @match${and} AND p.id NOT IN (SELECT value FROM json_each(@found))`;
  const bind = (extra: Record<string, unknown>) => ({ ...params, ...extra, match, found: JSON.stringify([...found, ...out].map((row) => row.id)) });
  const ranked = (table: 'packages_fts' | 'packages_head', limit: number): SearchRow[] =>
    prepared(
      db,
      `SELECT ${SEARCH_COLUMNS}, 3 AS tier, c.rank AS score FROM (SELECT t.rowid AS id, t.rank AS rank ${where(table)} LIMIT @cap) c
       JOIN packages p ON p.id = c.id ORDER BY c.rank, p.label_rank, p.name LIMIT @textLimit`,
    ).all(bind({ cap, textLimit: limit })) as SearchRow[];
  const size = (prepared(db, `SELECT count(*) AS n FROM (SELECT p.id ${where('packages_fts')} LIMIT @over)`).get(bind({ over: cap + 1 })) as { n: number }).n;
  if (size <= cap) return ranked('packages_fts', need);
  out.push(...ranked('packages_head', need));
  if (out.length < need) out.push(...ranked('packages_fts', need - out.length));
  return out;
}

/** Vocabulary words starting with `first` whose length is within the range, the most widespread first. */
export function vocabularyNear(handle: Db, first: string, minLength: number, maxLength: number, limit: number): Array<{ word: string; packages: number }> {
  return prepared(sqlite(handle), 'SELECT word, packages FROM vocabulary WHERE word >= ? AND word < ? AND length(word) BETWEEN ? AND ? ORDER BY packages DESC LIMIT ?')
    .all(first, first + '\uffff', minLength, maxLength, limit) as Array<{ word: string; packages: number }>;
}

/**
 * Whether the index knows a typed word: as a vocabulary word, as a full-text
 * term (which takes stemming into account: "reads" finds "read"), or, with
 * `asPrefix`, as the start of a vocabulary word (a person still typing).
 * `term` is a quoted FTS5 string built by search.ts.
 */
export function knowsWord(handle: Db, word: string, term: string, asPrefix: boolean): boolean {
  const db = sqlite(handle);
  if (prepared(db, 'SELECT 1 FROM vocabulary WHERE word = ?').get(word)) return true;
  if (asPrefix && prepared(db, 'SELECT 1 FROM vocabulary WHERE word > ? AND word < ? LIMIT 1').get(word, word + '\uffff')) return true;
  return prepared(db, 'SELECT 1 FROM packages_fts WHERE packages_fts MATCH ? LIMIT 1').get(term) !== undefined;
}

export function findPackages(handle: Db, name: string, ecosystem?: string): Array<{ doc: string; ecosystem: string; source: string; latest: string | null; summary: string }> {
  const db = sqlite(handle);
  const columns = 'd.doc, p.ecosystem, p.source, p.latest, p.summary FROM packages p JOIN docs d ON d.package_id = p.id';
  const sql = ecosystem ? `SELECT ${columns} WHERE p.name = ? AND p.ecosystem = ?` : `SELECT ${columns} WHERE p.name = ? ORDER BY p.ecosystem`;
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
export function namesWithPrefix(handle: Db, prefix: string, limit: number): string[]  {
  const db = sqlite(handle);
  const rows = db.prepare('SELECT name FROM packages WHERE name >= ? AND name < ? LIMIT ?').all(prefix, prefix + '\uffff', limit) as Array<{ name: string }>;
  return rows.map((r) => r.name);
}
