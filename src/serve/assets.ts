/**
 * The page's only two files besides HTML: a small stylesheet (readable on a
 * phone, dark mode, visible focus) and a small script that turns the search
 * form into search-as-you-type. No framework and nothing from elsewhere: the
 * Content-Security-Policy allows this origin only. The script builds results
 * with textContent, never markup, so index text cannot become HTML.
 */

export const STYLE_CSS = `:root{color-scheme:light dark;--fg:#1b1f24;--bg:#fff;--muted:#57606a;--line:#d0d7de;--link:#0550ae;--ok:#116329;--ref:#0a4f75;--com:#7d4e00;--bad:#a40e26}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#9198a1;--line:#30363d;--link:#79c0ff;--ok:#56d364;--ref:#79c0ff;--com:#e3b341;--bad:#ff7b72}}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header,main,footer{max-width:60rem;margin:0 auto;padding:.75rem 1rem}
header{border-bottom:1px solid var(--line)}
footer{border-top:1px solid var(--line);color:var(--muted);font-size:.875rem}
a{color:var(--link)}
a:focus,button:focus,input:focus,select:focus,main:focus{outline:3px solid var(--link);outline-offset:2px}
.home{font-weight:700;text-decoration:none}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:.5rem;background:var(--bg);padding:.25rem .5rem}
h1{font-size:1.6rem;line-height:1.2;overflow-wrap:anywhere}
input,select,button{font:inherit;padding:.3rem .4rem;border:1px solid var(--line);border-radius:4px;background:var(--bg);color:var(--fg);max-width:100%}
#q{width:min(28rem,100%)}
fieldset{border:1px solid var(--line);border-radius:4px;display:flex;flex-wrap:wrap;gap:.5rem 1rem}
fieldset label{white-space:nowrap}
#results{padding-left:1.25rem}
#results li{margin:.6rem 0}
#results a{font-weight:600}
.meta{color:var(--muted);font-size:.875rem}
.desc{display:block}
.label{display:inline-block;padding:0 .4rem;border:1px solid currentColor;border-radius:1rem;font-size:.8rem;font-weight:600}
.label-verified{color:var(--ok)}.label-reference{color:var(--ref)}.label-community{color:var(--com)}.label-quarantined,.warning{color:var(--bad)}
.scroll{overflow-x:auto}
table{border-collapse:collapse;font-size:.875rem}
th,td{border-bottom:1px solid var(--line);padding:.3rem .5rem;text-align:left;vertical-align:top}
caption{text-align:left;color:var(--muted)}
.digest code{overflow-wrap:anywhere;word-break:break-all}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.875em}
pre{overflow-x:auto;padding:.5rem;border:1px solid var(--line);border-radius:4px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{color:var(--muted)}dd{margin:0;overflow-wrap:anywhere}
.driver{border-left:3px solid var(--line);padding-left:.75rem;margin:1rem 0}
@media (max-width:40rem){dl{grid-template-columns:1fr}dt{margin-top:.4rem}fieldset label{white-space:normal}}
`;

/** The site's icon: a small shield, so browsers do not ask for /favicon.ico. */
export const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><path d="M8 1 2 3.5V8c0 3.3 2.6 6.2 6 7 3.4-.8 6-3.7 6-7V3.5z" fill="#0a4f75"/><path d="m5 8 2 2 4-4" stroke="#fff" stroke-width="1.6" fill="none"/></svg>
`;

export const APP_JS = `'use strict';
(() => {
  const form = document.getElementById('search');
  if (!form) return;
  const body = document.body;
  const root = body.dataset.root || '';
  const list = document.getElementById('results');
  const count = document.getElementById('count');
  const facets = ['capability', 'adapter', 'llm', 'label', 'ecosystem', 'class', 'permission'];
  const lists = { capability: 'capabilities', adapter: 'adapters', llm: 'llms', permission: 'permissions' };
  const provenance = { all: 'provenance on every version', some: 'provenance on some versions', none: 'no provenance' };
  let all = null;
  let timer = 0;
  let asked = 0;
  const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; };
  const pagePath = (h) => root + 'packages/' + h.ecosystem + '/' + h.name.split('/').map(encodeURIComponent).join('/') + '/';
  function show(hits, note) {
    list.replaceChildren(...hits.map((h) => {
      const li = el('li');
      const a = el('a', '', h.name); a.href = pagePath(h);
      li.append(a, ' ', el('span', 'label label-' + h.label, h.label));
      if (h.quarantine) li.append(' ', el('span', 'label label-quarantined', 'quarantined'));
      li.append(el('span', 'meta', ' ' + [h.ecosystem, h.class, h.latest || 'no pinned version', provenance[h.provenance] || '', h.capabilities.join(', ')].filter(Boolean).join(' · ')));
      li.append(el('span', 'desc', h.description));
      return li;
    }));
    count.textContent = note || (hits.length === 0 ? 'No packages match.' : hits.length + (hits.length === 1 ? ' package' : ' packages'));
  }
  function params() {
    const p = new URLSearchParams();
    const data = new FormData(form);
    for (const [k, v] of data) if (typeof v === 'string' && v.trim() !== '') p.append(k, v.trim());
    return p;
  }
  async function staticSearch(p) {
    if (!all) all = await (await fetch(root + 'packages.json')).json();
    const words = (p.get('q') || '').toLowerCase().match(/[\\p{L}\\p{N}]+/gu) || [];
    const hits = all.filter((h) => {
      for (const f of facets) { const want = p.get(f); if (!want) continue; const have = lists[f] ? h[lists[f]] : [h[f]]; if (!have.includes(want.toLowerCase()) && !have.includes('*')) return false; }
      const text = [h.name, h.description, ...h.capabilities, ...h.adapters].join(' ').toLowerCase();
      return words.every((w) => text.includes(w));
    });
    const first = (h) => (words.some((w) => h.name.includes(w)) ? 0 : 1);
    return hits.sort((a, b) => first(a) - first(b));
  }
  async function run() {
    const p = params();
    const mine = ++asked;
    history.replaceState(null, '', p.toString() ? '?' + p : location.pathname);
    if (![...p.keys()].length) { list.replaceChildren(); count.textContent = ''; return; }
    try {
      let hits;
      if (body.dataset.mode === 'static') hits = await staticSearch(p);
      else {
        const r = await fetch(root + 'api/v1/search?' + p, { headers: { accept: 'application/json' } });
        const json = await r.json();
        if (mine !== asked) return;
        if (!r.ok) { show([], json.error ? json.error.message : 'Search failed.'); return; }
        hits = json.results;
      }
      if (mine === asked) show(hits);
    } catch (e) { if (mine === asked) show([], 'Search failed: ' + e.message); }
  }
  form.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(run, 150); });
  form.addEventListener('submit', (e) => { e.preventDefault(); clearTimeout(timer); run(); });
  if (body.dataset.mode === 'static' && location.search) {
    const p = new URLSearchParams(location.search);
    for (const [k, v] of p) { const input = form.elements.namedItem(k); if (input) input.value = v; }
    run();
  }
})();
`;
