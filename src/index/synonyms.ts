/**
 * The words of the field that mean the same to a person searching, and the
 * words that glue together into the compounds drivers are named by. Small
 * and reviewed on purpose: every entry widens what a query finds, so each
 * says why it holds. Keys and values are lowercase words as queryTerms()
 * yields them; an entry reads "a search for the key also finds these".
 */
export const SYNONYMS: Readonly<Record<string, readonly string[]>> = {
  // "e-mail" is joined to "email" before lookup; "mail" is how MCS names its mail drivers (mailread, mailsend)
  email: ['mail'],
  mail: ['email'],
  // the inbox is the mailbox mail arrives in; drivers say mailbox, rarely inbox (not mail: sending drivers say mail too)
  inbox: ['mailbox'],
  mailbox: ['inbox'],
  // OpenAPI describes REST (HTTP) APIs: a search for either finds drivers that speak OpenAPI; Swagger is its former name
  api: ['openapi'],
  rest: ['openapi'],
  openapi: ['api', 'swagger'],
  swagger: ['openapi'],
  // db is the everyday short form
  db: ['database'],
  database: ['db'],
  // a spreadsheet is what Excel, Google Sheets and CSV exports hold; excel files are xlsx
  spreadsheet: ['excel', 'xlsx', 'sheets', 'csv'],
  excel: ['xlsx', 'spreadsheet'],
  xlsx: ['excel'],
  // the product's two spellings
  postgres: ['postgresql'],
  postgresql: ['postgres'],
  mongo: ['mongodb'],
  mongodb: ['mongo'],
  // k8s is the numeronym of kubernetes
  k8s: ['kubernetes'],
  kubernetes: ['k8s'],
  // folders and directories are the same thing on different systems
  directory: ['folder'],
  folder: ['directory'],
  // fs is the usual short form of filesystem in package names
  fs: ['filesystem'],
  filesystem: ['fs'],
  // repo is the everyday short form
  repo: ['repository'],
  repository: ['repo'],
};

/**
 * Words drivers glue into one (mailsend, filesystem, websearch, OpenAPI in
 * lowercase): a word that is exactly two of these is also indexed and
 * searched as its parts.
 */
export const COMPOUND_PARTS: ReadonlySet<string> = new Set([
  'mail', 'email', 'send', 'sender', 'read', 'reader', 'write', 'writer', 'fetch', 'search', 'file', 'files', 'system',
  'open', 'api', 'web', 'address', 'book', 'data', 'base', 'text', 'message', 'chat', 'bot', 'sheet', 'sheets', 'note',
  'notes', 'key', 'value', 'store', 'object', 'event', 'calendar', 'contact', 'contacts', 'inbox', 'image', 'speech',
  'voice', 'code', 'local', 'cloud', 'http', 'rest', 'sql', 'graph', 'query', 'task', 'tasks', 'doc', 'docs', 'feed',
]);

/**
 * Words that carry no meaning of their own in a search (English function
 * words, and words every MCS package name holds): left out when other words
 * remain, searched for when alone.
 */
export const STOP_WORDS: ReadonlySet<string> = new Set([
  'mcs', 'driver', 'a', 'an', 'the', 'my', 'our', 'your', 'to', 'of', 'for', 'from', 'with', 'and', 'or', 'in', 'on', 'at', 'by',
  'into', 'me', 'i', 'it', 'is', 'be', 'can', 'let', 'lets', 'that', 'this', 'some', 'all', 'via', 'using',
]);
