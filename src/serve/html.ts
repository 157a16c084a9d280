/**
 * The web pages, rendered on the server (and by `index site`) as plain HTML:
 * a package page needs no JavaScript, and the search page works as a form
 * without it. Every text from the index is HTML-escaped, and its invisible
 * characters are shown as \u{...} as the CLI shows them (src/manifest/text.ts),
 * so an entry can neither inject markup nor hide text on the page.
 */
import type { LogRecord } from '../maintain/log.js';
import { PACKAGE_CLASSES } from '../manifest/names.js';
import { replaceInvisible } from '../manifest/text.js';
import type { DeclaredDriver, IndexEntry } from '../manifest/types.js';
import type { SearchHit, SearchResult } from '../index/search.js';
import type { PackageInfo } from '../index/store.js';
import type { IndexFreshness } from '../snapshot/installed.js';

/** Pages may load this origin's style and script and ask its API; nothing inline, nothing from elsewhere, never framed. */
export const CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Index text as HTML: invisible characters shown as \u{...}, markup characters escaped. */
export function h(text: string | number | null | undefined): string {
  const visible = replaceInvisible(String(text ?? ''), (codePoint) => `\\u{${codePoint.toString(16).toUpperCase()}}`);
  return visible.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/** Where a package's page lives, relative to the site root (a folder, so a static host serves its index.html). */
export function packagePath(ecosystem: string, name: string): string {
  return `packages/${ecosystem}/${name.split('/').map(encodeURIComponent).join('/')}/`;
}

/** The way back to the site root from a package page. */
function rootFrom(name: string): string {
  return '../'.repeat(3 + (name.includes('/') ? 1 : 0));
}

export interface PageContext {
  freshness: IndexFreshness;
  /** The id of the index state the page was rendered from. */
  snapshot: string;
  /** 'server': search asks the API; 'static': search filters packages.json in the browser. */
  mode: 'server' | 'static';
}

function layout(title: string, root: string, main: string, context: PageContext): string {
  const state = context.freshness.snapshot === null ? 'index not installed from a signed snapshot' : `signed snapshot version ${context.freshness.snapshot}, valid until ${h(context.freshness.expires)}${context.freshness.expired ? ' (EXPIRED: it may be stale)' : ''}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${context.mode === 'static' ? `<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY.replace(/; frame-ancestors 'none'/, '')}">\n` : ''}<title>${h(title)} · mcs-pkg index</title>
<link rel="stylesheet" href="${root}assets/style.css">
<link rel="icon" href="${root}assets/icon.svg" type="image/svg+xml">
<script src="${root}assets/app.js" defer></script>
</head>
<body data-mode="${context.mode}" data-root="${root}" data-snapshot="${h(context.snapshot)}">
<a class="skip" href="#main">Skip to content</a>
<header><nav aria-label="Site"><a href="${root || './'}" class="home">mcs-pkg index</a></nav></header>
<main id="main" tabindex="-1">
${main}
</main>
<footer><p>${state}. Index state <code>${h(context.snapshot)}</code>.${context.mode === 'server' ? ` <a href="${root}api/v1/">API</a>` : ''}</p></footer>
</body>
</html>
`;
}

const LABELS = ['verified', 'reference', 'community'] as const;
const ECOSYSTEMS = ['npm', 'pypi'] as const;
const PERMISSIONS = ['network', 'filesystem:read', 'filesystem:write', 'shell', 'secrets', 'autostart'] as const;

function select(name: string, label: string, choices: readonly string[], chosen: string | undefined): string {
  const options = ['', ...choices].map((c) => `<option value="${h(c)}"${c === (chosen ?? '') ? ' selected' : ''}>${c === '' ? 'any' : h(c)}</option>`).join('');
  return `<label>${label} <select name="${name}">${options}</select></label>`;
}

function textFacet(name: string, label: string, value: string | undefined): string {
  return `<label>${label} <input name="${name}" value="${h(value ?? '')}" size="10" autocomplete="off"></label>`;
}

function labelBadge(label: string): string {
  return `<span class="label label-${h(label)}">${h(label)}</span>`;
}

const PROVENANCE: Record<string, string> = { all: 'provenance on every version', some: 'provenance on some versions', none: 'no provenance' };

/** One result of a search, as the API's JSON hit holds it. */
function hitItem(hit: Pick<SearchHit, 'name' | 'ecosystem' | 'class' | 'label' | 'description' | 'latest' | 'capabilities' | 'provenance' | 'quarantine'>, root: string): string {
  return `<li><a href="${root}${packagePath(hit.ecosystem, hit.name)}">${h(hit.name)}</a> ${labelBadge(hit.label)}${hit.quarantine ? ' <span class="label label-quarantined">quarantined</span>' : ''}
<span class="meta">${h(hit.ecosystem)} · ${h(hit.class)} · ${hit.latest ? h(hit.latest) : 'no pinned version'} · ${PROVENANCE[hit.provenance] ?? ''}${hit.capabilities.length > 0 ? ` · ${h(hit.capabilities.join(', '))}` : ''}</span>
<span class="desc">${h(hit.description)}</span></li>`;
}

export interface SearchPageInput {
  query: string;
  filters: Record<string, string | undefined>;
  /** Results rendered on the server; undefined when nothing was asked (or in a static export). */
  result?: SearchResult;
  /** The link to the next page of results, when there is one. */
  next?: string;
  /** A refusal to show instead of results (an empty or too long query). */
  problem?: string;
  /** In a static export: every package, listed for readers without JavaScript. */
  all?: SearchHit[];
}

/** The search page: a GET form with the facets, and the results when the server ran the search. */
export function searchPage(input: SearchPageInput, context: PageContext): string {
  const f = input.filters;
  const results = input.result
    ? `<p id="count" role="status">${input.result.results.length === 0 ? 'No packages match.' : `${input.result.results.length} package${input.result.results.length === 1 ? '' : 's'}${input.next ? ' on this page' : ''}`}</p>
<ol id="results">${input.result.results.map((r) => hitItem(r, '')).join('\n')}</ol>${input.next ? `\n<p><a href="${h(input.next)}" rel="next">Next page</a></p>` : ''}`
    : input.problem
      ? `<p id="count" role="status">${h(input.problem)}</p><ol id="results"></ol>`
      : input.all
        ? `<p id="count" role="status">${input.all.length} packages in the index.</p><ol id="results">${input.all.map((r) => hitItem(r, '')).join('\n')}</ol>`
        : `<p id="count" role="status"></p><ol id="results"></ol>`;
  const main = `<h1>Find an MCS driver</h1>
<search>
<form id="search" action="./" method="get" role="search">
<p><label for="q">Search</label> <input id="q" name="q" type="search" value="${h(input.query)}" placeholder="csv, send email, rest api…" maxlength="256" autocomplete="off"> <button type="submit">Search</button></p>
<fieldset><legend>Filters</legend>
${textFacet('capability', 'Capability', f.capability)}
${textFacet('adapter', 'Adapter', f.adapter)}
${textFacet('llm', 'Model', f.llm)}
${select('label', 'Label', LABELS, f.label)}
${select('ecosystem', 'Ecosystem', ECOSYSTEMS, f.ecosystem)}
${select('class', 'Class', PACKAGE_CLASSES, f.class)}
${select('permission', 'Permission', PERMISSIONS, f.permission)}
</fieldset>
</form>
</search>
<section aria-labelledby="results-title"><h2 id="results-title">Results</h2>
${results}
</section>`;
  return layout(input.query ? `${input.query}: search` : 'Search', '', main, context);
}

function dl(rows: Array<[string, string | undefined]>): string {
  const shown = rows.filter(([, v]) => v !== undefined && v !== '');
  return shown.length === 0 ? '' : `<dl>${shown.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl>`;
}

function driverSection(driver: DeclaredDriver): string {
  const m = driver.meta;
  const tools = (driver.tools ?? []).map((t) => {
    const params = (t.parameters ?? []).map((p) => `<li><code>${h(p.name)}</code>${p.required ? ' (required)' : ''}: ${h(p.description)}</li>`).join('');
    return `<li><code>${h(t.name)}</code>${t.title ? ` · ${h(t.title)}` : ''}: ${h(t.description ?? '')}${params ? `<ul>${params}</ul>` : ''}</li>`;
  });
  return `<section class="driver"><h4>${h(m.name)} <span class="meta">${h(driver.kind)} ${h(m.version)}</span></h4>
${dl([
  ['id', `<code>${h(m.id)}</code>`],
  ['bindings', h(m.bindings.map((b) => `${b.capability}/${b.adapter} (${b.spec_format})`).join(', '))],
  ['models', m.target_llms === null || m.target_llms === undefined ? 'none (tool driver)' : h(m.target_llms.join(', '))],
  ['capabilities', h(m.capabilities.join(', ')) || 'none'],
  ['entry', driver.export ? `<code>${h(driver.export)}</code>` : undefined],
])}
${tools.length > 0 ? `<h5>Tools</h5><ul>${tools.join('')}</ul>` : ''}</section>`;
}

function installSection(entry: IndexEntry, latest: string | null): string {
  const at = latest ?? 'VERSION';
  if (entry.ecosystem === 'pypi') {
    return `<pre><code>npx mcs-pkg verify pypi:${h(entry.name)}@${h(at)}
npx mcs-pkg pins pypi:${h(entry.name)}@${h(at)} --format requirements &gt; requirements.txt
pip install --require-hashes -r requirements.txt
npx mcs-pkg load pypi:${h(entry.name)}@${h(at)}</code></pre>
<p><code>verify</code> checks every file of the version against the digests below and, where one is expected, its PEP 740 attestation against the publisher pinned here. <code>pins --format requirements</code> gives pip (or <code>uv pip</code>) the pinned wheels of the driver and its locked dependencies, so <code>--require-hashes</code> installs exactly those. <code>load</code> runs the driver's pinned pure-Python wheels in a confined Python host (Python 3.11 or newer); a release pinned as an sdist only cannot be loaded, because building it runs its code.</p>`;
  }
  return `<pre><code>npx mcs-pkg verify ${h(entry.name)}@${h(at)}
npx mcs-pkg load ${h(entry.name)}@${h(at)}</code></pre>
<p><code>verify</code> checks the registry's signature, the pinned digest and the provenance against the publisher pinned here; <code>load</code> verifies the same way, then loads the driver through the trust gate (Verified and Reference labels by default; <code>--allow-community</code> for Community). From code: <code>loadDriver('${h(entry.name)}@${h(at)}')</code>.</p>`;
}

function historyTable(records: readonly LogRecord[]): string {
  if (records.length === 0) return '<p>The audit log holds no record of this package.</p>';
  const rows = records.map((r) => {
    const value = typeof r.after === 'string' ? r.after : JSON.stringify(r.after ?? null);
    return `<tr><td>${r.seq}</td><td>${h(r.at)}</td><td>${h(r.by)}</td><td>${h(r.field)}${r.version ? ` ${h(r.version)}` : ''}</td><td>${h(value)}</td><td>${h(r.why)}</td><td>${r.keyid ? `key <code>${h(r.keyid.slice(0, 16))}</code>` : 'unsigned'}</td></tr>`;
  });
  return `<div class="scroll"><table><caption>Audit log records, oldest first</caption><thead><tr><th scope="col">#</th><th scope="col">when</th><th scope="col">who</th><th scope="col">what</th><th scope="col">value</th><th scope="col">why</th><th scope="col">signature</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
}

/** The page of one package: everything a person needs to judge it and install or load it. */
export function packagePage(info: PackageInfo, history: readonly LogRecord[], context: PageContext): string {
  const { entry, summary } = info;
  const root = rootFrom(entry.name);
  const publisher = entry.trust?.publisher;
  const labelRecord = [...history].reverse().find((r) => r.field === 'label');
  const versions = Object.entries(entry.versions).map(([version, v]) => {
    const digests = v.integrity ? `<code>${h(v.integrity)}</code>${v.size ? ` (${v.size} bytes)` : ''}` : (v.files ?? []).map((f) => `<code>${h(f.filename)}</code> <code>${h(f.integrity)}</code>`).join('<br>');
    const state = [v.yanked ? `<strong>yanked</strong>: ${h(v.yanked.reason)}` : '', v.deprecated ? `deprecated: ${h(v.deprecated.reason)}` : ''].filter(Boolean).join('; ');
    return `<tr><th scope="row">${h(version)}</th><td>${h(v.published ?? '')}</td><td>${v.provenance ? 'yes' : 'no'}</td><td class="digest">${digests || 'not pinned'}</td><td>${state}</td></tr>`;
  });
  const notes = (entry.security?.notes ?? []).map((n) => `<li>${n.severity ? `<strong>${h(n.severity)}</strong>: ` : ''}${h(n.text)}${n.url && /^https:\/\//.test(n.url) ? ` <a href="${h(n.url)}" rel="nofollow noreferrer">more</a>` : ''}</li>`);
  const declarations = (entry.declarations ?? []).map((d) => `<section><h3>${d.versions ? `Declared by ${h(d.versions.join(', '))}` : 'Read from source, for no known release'}</h3>${d.drivers.map(driverSection).join('')}</section>`);
  const main = `<article>
<h1>${h(entry.name)}</h1>
<p class="lead">${labelBadge(entry.label.value)} <span class="meta">${h(entry.ecosystem)} · ${h(entry.class)} · latest ${info.latest ? h(info.latest) : 'none pinned'}</span></p>
${entry.quarantine ? `<p class="warning" role="alert"><strong>Quarantined</strong>: ${h(entry.quarantine.reason)}. Loaders refuse it.</p>` : ''}
<p>${h(entry.description)}</p>
${dl([
  ['homepage', entry.homepage ? (/^https:\/\//.test(entry.homepage) ? `<a href="${h(entry.homepage)}" rel="nofollow noreferrer">${h(entry.homepage)}</a>` : h(entry.homepage)) : undefined],
  ['license', entry.license ? h(entry.license) : undefined],
  ['capabilities', h(summary.capabilities.join(', '))],
  ['adapters', h(summary.adapters.join(', '))],
  ['models', h(summary.llms.join(', '))],
  ['runtime', entry.compatibility?.runtime ? h(entry.compatibility.runtime) : undefined],
])}
<section aria-labelledby="install"><h2 id="install">Install or load</h2>${installSection(entry, info.latest)}</section>
<section aria-labelledby="label"><h2 id="label">Label</h2>
<p id="label-summary">${labelBadge(entry.label.value)} set by <strong>${h(entry.label.by)}</strong> at <time>${h(entry.label.at)}</time>: ${h(entry.label.reason)}</p>
<p>${labelRecord ? `Audit log record #${labelRecord.seq} by ${h(labelRecord.by)} at ${h(labelRecord.at)}: ${h(labelRecord.why)}${labelRecord.keyid ? ` (signed by maintainer key <code>${h(labelRecord.keyid.slice(0, 16))}</code>)` : ' (unsigned)'}` : 'No audit log record sets this label.'}</p>
<h3>History</h3>
${historyTable(history)}
</section>
<section aria-labelledby="provenance"><h2 id="provenance">Provenance and publisher</h2>
<p id="provenance-summary">${h(PROVENANCE[summary.provenance] ?? '')}.</p>
${publisher
  ? publisher.kind === 'google'
    ? dl([
        ['publisher', `Google service account ${h(publisher.email)}`],
        ['issuer', h(publisher.issuer)],
      ])
    : dl([
        ['publisher', `${h(publisher.repository)}`],
        ['workflow', `<code>${h(publisher.workflow)}</code>${publisher.ref ? ` at <code>${h(publisher.ref)}</code>` : ''}`],
        ['issuer', h(publisher.issuer)],
        ...(publisher.kind === 'gitlab' ? [] : [['runner', h(publisher.runner ?? 'github-hosted')] as [string, string]]),
      ])
  : '<p>No publisher is pinned: there is no provenance identity to check a release against.</p>'}
${dl([['repository', entry.trust?.repository ? h(entry.trust.repository) : undefined], ['author', entry.trust?.author ? h(entry.trust.author) : undefined]])}
</section>
<section aria-labelledby="versions"><h2 id="versions">Versions</h2>
${versions.length === 0 ? '<p>No version is pinned yet.</p>' : `<div class="scroll"><table><caption>Pinned versions and their digests</caption><thead><tr><th scope="col">version</th><th scope="col">published</th><th scope="col">provenance</th><th scope="col">digests</th><th scope="col">state</th></tr></thead><tbody>${versions.join('')}</tbody></table></div>`}
</section>
<section aria-labelledby="security"><h2 id="security">Permissions and security notes</h2>
<p>Permissions: ${summary.permissions.length > 0 ? h(summary.permissions.join(', ')) : 'none declared'}.</p>
${notes.length > 0 ? `<ul>${notes.join('')}</ul>` : '<p>No security notes.</p>'}
</section>
<section aria-labelledby="drivers"><h2 id="drivers">Drivers and tools</h2>
${declarations.length > 0 ? declarations.join('') : '<p>The index has read no driver declaration for this package.</p>'}
</section>
</article>`;
  return layout(entry.name, root, main, context);
}
