/**
 * The judged query set: what people type, and how relevant (0-3) each topic
 * of the corpus is to it. 3: what the person is looking for; 2: clearly
 * useful; 1: related; unlisted topics are 0. Written before any tuning of
 * the search; change an entry only with a reason in its commit message.
 */

export interface Judgment {
  query: string;
  /** What kind of query it is, for the per-kind breakdown. */
  kind: 'phrase' | 'word' | 'synonym' | 'typo' | 'compound' | 'name';
  grades: Readonly<Record<string, 1 | 2 | 3>>;
}

const EMAIL = { 'email-send': 3, 'email-read': 3, 'email-both': 3, contacts: 1 } as const;
const DATABASES = { postgres: 3, mysql: 3, sqlite: 3, mongodb: 3, bigquery: 2, redis: 1, vector: 1 } as const;

export const JUDGMENTS: readonly Judgment[] = [
  // natural phrases
  { query: 'send email', kind: 'phrase', grades: { 'email-send': 3, 'email-both': 3, 'email-read': 1, sms: 1 } },
  { query: 'read my inbox', kind: 'phrase', grades: { 'email-read': 3, 'email-both': 3, 'email-send': 1 } },
  { query: 'rest api', kind: 'phrase', grades: { 'rest-api': 3, 'rest-orchestrator': 2, graphql: 1, 'adapter-http': 1 } },
  { query: 'read file', kind: 'phrase', grades: { filesystem: 3, ftp: 1, csv: 1, pdf: 1, 'adapter-fs': 1 } },
  { query: 'write files to disk', kind: 'phrase', grades: { filesystem: 3, 'adapter-fs': 1 } },
  { query: 'list directory', kind: 'phrase', grades: { filesystem: 3, ftp: 1, 'adapter-fs': 1 } },
  { query: 'upload to s3', kind: 'phrase', grades: { s3: 3, ftp: 1 } },
  { query: 'post to slack', kind: 'phrase', grades: { slack: 3, 'chat-teams': 1 } },
  { query: 'slack message', kind: 'phrase', grades: { slack: 3, 'chat-teams': 1 } },
  { query: 'send sms', kind: 'phrase', grades: { sms: 3 } },
  { query: 'text message', kind: 'phrase', grades: { sms: 3, 'chat-teams': 1 } },
  { query: 'schedule a meeting', kind: 'phrase', grades: { calendar: 3 } },
  { query: 'github issues', kind: 'phrase', grades: { github: 3, tickets: 2 } },
  { query: 'pull request', kind: 'phrase', grades: { github: 3 } },
  { query: 'jira ticket', kind: 'phrase', grades: { tickets: 3 } },
  { query: 'bug tracker', kind: 'phrase', grades: { tickets: 3, github: 2 } },
  { query: 'scrape website', kind: 'phrase', grades: { 'web-fetch': 3 } },
  { query: 'fetch url', kind: 'phrase', grades: { 'web-fetch': 3 } },
  { query: 'web search', kind: 'phrase', grades: { 'web-search': 3, 'web-fetch': 1 } },
  { query: 'extract text from pdf', kind: 'phrase', grades: { pdf: 3, ocr: 1 } },
  { query: 'message queue', kind: 'phrase', grades: { kafka: 3 } },
  { query: 'kubernetes pods', kind: 'phrase', grades: { kubernetes: 3 } },
  { query: 'docker containers', kind: 'phrase', grades: { docker: 3, kubernetes: 1 } },
  { query: 'run shell command', kind: 'phrase', grades: { shell: 3 } },
  { query: 'password manager', kind: 'phrase', grades: { secrets: 3 } },
  { query: 'weather forecast', kind: 'phrase', grades: { weather: 3 } },
  { query: 'geocode address', kind: 'phrase', grades: { maps: 3 } },
  { query: 'translate text', kind: 'phrase', grades: { translate: 3 } },
  { query: 'speech to text', kind: 'phrase', grades: { speech: 3 } },
  { query: 'transcribe audio', kind: 'phrase', grades: { speech: 3 } },
  { query: 'generate image', kind: 'phrase', grades: { images: 3 } },
  { query: 'git commit', kind: 'phrase', grades: { git: 3, github: 1 } },
  { query: 'vector search', kind: 'phrase', grades: { vector: 3 } },
  { query: 'rss feed', kind: 'phrase', grades: { rss: 3 } },
  { query: 'address book', kind: 'phrase', grades: { contacts: 3, crm: 1 } },
  { query: 'data warehouse', kind: 'phrase', grades: { bigquery: 3 } },
  { query: 'crm contacts', kind: 'phrase', grades: { crm: 3, contacts: 2 } },
  { query: 'redis cache', kind: 'phrase', grades: { redis: 3 } },
  { query: 'let the model send e-mail', kind: 'phrase', grades: { 'email-send': 3, 'email-both': 3 } },
  { query: 'organise mail folders', kind: 'phrase', grades: { 'email-read': 3, 'email-both': 3 } },
  { query: 'query postgres', kind: 'phrase', grades: { postgres: 3, mysql: 1, sqlite: 1 } },
  { query: 'sql database', kind: 'phrase', grades: { postgres: 3, mysql: 3, sqlite: 3, bigquery: 2 } },
  // single words
  { query: 'csv', kind: 'word', grades: { csv: 3, excel: 1 } },
  { query: 'calendar', kind: 'word', grades: { calendar: 3 } },
  { query: 'notes', kind: 'word', grades: { notes: 3 } },
  { query: 'wiki', kind: 'word', grades: { notes: 3 } },
  { query: 'json', kind: 'word', grades: { json: 3 } },
  { query: 'kafka', kind: 'word', grades: { kafka: 3 } },
  { query: 'metrics', kind: 'word', grades: { monitoring: 3 } },
  { query: 'logs', kind: 'word', grades: { logs: 3, monitoring: 1 } },
  { query: 'secrets', kind: 'word', grades: { secrets: 3 } },
  { query: 'payments', kind: 'word', grades: { payments: 3, invoices: 1 } },
  { query: 'invoice', kind: 'word', grades: { invoices: 3, payments: 1 } },
  { query: 'ocr', kind: 'word', grades: { ocr: 3 } },
  { query: 'xml', kind: 'word', grades: { xml: 3 } },
  { query: 'markdown', kind: 'word', grades: { markdown: 3 } },
  { query: 'graphql', kind: 'word', grades: { graphql: 3 } },
  { query: 'mysql', kind: 'word', grades: { mysql: 3 } },
  { query: 'imap', kind: 'word', grades: { 'email-read': 3, 'email-both': 2 } },
  { query: 'smtp', kind: 'word', grades: { 'email-send': 3, 'email-both': 2 } },
  { query: 'orchestrator', kind: 'word', grades: { orchestrator: 3, 'rest-orchestrator': 3 } },
  { query: 'chat', kind: 'word', grades: { 'chat-teams': 3, slack: 2 } },
  // synonyms: another word for what the index says
  { query: 'email', kind: 'synonym', grades: EMAIL },
  { query: 'e-mail', kind: 'synonym', grades: EMAIL },
  { query: 'mail', kind: 'synonym', grades: EMAIL },
  { query: 'db', kind: 'synonym', grades: DATABASES },
  { query: 'database', kind: 'synonym', grades: DATABASES },
  { query: 'spreadsheet', kind: 'synonym', grades: { excel: 3, csv: 2 } },
  { query: 'excel', kind: 'synonym', grades: { excel: 3, csv: 1 } },
  { query: 'swagger', kind: 'synonym', grades: { 'rest-api': 3, 'rest-orchestrator': 1 } },
  { query: 'k8s', kind: 'synonym', grades: { kubernetes: 3 } },
  { query: 'mongo', kind: 'synonym', grades: { mongodb: 3 } },
  { query: 'object storage', kind: 'synonym', grades: { s3: 3 } },
  { query: 'postgresql', kind: 'synonym', grades: { postgres: 3 } },
  { query: 'embeddings', kind: 'synonym', grades: { vector: 3 } },
  { query: 'stripe', kind: 'synonym', grades: { payments: 3 } },
  // typos of words the index knows
  { query: 'cvs', kind: 'typo', grades: { csv: 3, excel: 1 } },
  { query: 'postgress', kind: 'typo', grades: { postgres: 3, mysql: 1, sqlite: 1 } },
  { query: 'spreadhseet', kind: 'typo', grades: { excel: 3, csv: 2 } },
  { query: 'kubernetis', kind: 'typo', grades: { kubernetes: 3 } },
  { query: 'calender', kind: 'typo', grades: { calendar: 3 } },
  { query: 'databse', kind: 'typo', grades: DATABASES },
  { query: 'emial', kind: 'typo', grades: EMAIL },
  { query: 'sned email', kind: 'typo', grades: { 'email-send': 3, 'email-both': 3, 'email-read': 1 } },
  // compounds and case
  { query: 'mailsend', kind: 'compound', grades: { 'email-send': 3, 'email-both': 2 } },
  { query: 'mailread', kind: 'compound', grades: { 'email-read': 3, 'email-both': 2 } },
  { query: 'openapi', kind: 'compound', grades: { 'rest-api': 3, 'rest-orchestrator': 2 } },
  { query: 'OpenAPI driver', kind: 'compound', grades: { 'rest-api': 3, 'rest-orchestrator': 1 } },
  { query: 'open api', kind: 'compound', grades: { 'rest-api': 3, 'rest-orchestrator': 2 } },
  { query: 'sendEmail', kind: 'compound', grades: { 'email-send': 3, 'email-both': 3 } },
  { query: 'filesystem', kind: 'compound', grades: { filesystem: 3, 'adapter-fs': 2, 'adapter-smb': 1 } },
  { query: 'file system', kind: 'compound', grades: { filesystem: 3, 'adapter-fs': 2, 'adapter-smb': 1 } },
  // names and kinds of package
  { query: 'filesystem adapter', kind: 'name', grades: { 'adapter-fs': 3, 'adapter-smb': 2, filesystem: 1 } },
  { query: 'http adapter', kind: 'name', grades: { 'adapter-http': 3 } },
  { query: 'smb share', kind: 'name', grades: { 'adapter-smb': 3 } },
  { query: 'mcs-driver-csv', kind: 'name', grades: { csv: 3 } },
];
