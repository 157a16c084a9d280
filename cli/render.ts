/**
 * Text rendering for the terminal. Pure: takes data and display settings,
 * returns strings; the commands decide where they go.
 */
import type { ValidationReport } from '../src/index/build.js';
import { replaceInvisible } from '../src/manifest/text.js';
import type { IndexStatus, PackageInfo } from '../src/index/store.js';
import type { CheckResult } from '../src/trust/result.js';
import type { SearchResult } from '../src/index/search.js';
import type { McsError } from '../src/errors.js';
import { declaredFor } from '../src/manifest/declarations.js';
import type { FileArtifactVerdict, InstalledReport, RegistryVerdict, TarballVerdict } from '../src/verify.js';
import type { DistVerdict } from '../src/pypi/verify.js';
import type { PypiVersionVerdict } from '../src/pypi/online.js';
import type { InstalledPythonReport } from '../src/pypi/installed.js';

export interface Display {
  color: boolean;
  /** Terminal width; long cells are cut to fit (Infinity: never cut). */
  width: number;
}

const STYLES = { bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39] } as const;
type Style = keyof typeof STYLES;

export function paint(display: Display, style: Style, text: string): string {
  if (!display.color) return text;
  const [open, close] = STYLES[style];
  return `\u001b[${open}m${text}\u001b[${close}m`;
}

const braced = (codePoint: number): string => `\\u{${codePoint.toString(16)}}`;

/**
 * Text from index data, registries and drivers is shown, never obeyed: every
 * invisible character (src/manifest/text.ts: controls such as escape
 * sequences, bidirectional overrides, zero-width and tag characters, line
 * separators, ...) is shown escaped as \u{...}. A line break and a tab become
 * a space, unless `lines` keeps them (a multi-line message shown as such).
 */
export function clean(text: string, options: { lines?: boolean } = {}): string {
  if (options.lines) return replaceInvisible(text.replace(/\r\n/g, '\n'), braced, (c) => c === '\n' || c === '\t');
  return replaceInvisible(text, (codePoint) => (codePoint === 0x0a || codePoint === 0x09 ? ' ' : braced(codePoint)));
}

/** \uXXXX, or a surrogate pair of them: the same character, written in JSON's ASCII form. */
function jsonEscaped(codePoint: number): string {
  const units = String.fromCodePoint(codePoint);
  let escaped = '';
  for (let i = 0; i < units.length; i++) escaped += `\\u${units.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return escaped;
}

const PAINTED = new RegExp(`^\u001b\\[(?:${[...new Set(Object.values(STYLES).flat())].join('|')})m`);

/**
 * The last line of defence, for whatever a command writes: in text, any
 * invisible character but a line break, a tab and the colour codes paint()
 * itself writes is escaped, so a field a renderer forgot cannot reach the
 * terminal raw; in JSON, the same characters become \uXXXX escapes, which
 * leaves the document what it was.
 */
export function shown(text: string, json: boolean): string {
  if (json) return replaceInvisible(text, jsonEscaped, (c) => c === '\n');
  return replaceInvisible(text, braced, (c, offset, whole) => c === '\n' || c === '\t' || (c === '\u001b' && PAINTED.test(whole.slice(offset, offset + 6))));
}

/** The one way a cell is cut: to `width` columns, the last one an ellipsis; never splits a character. */
function cut(text: string, width: number): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  return width <= 0 ? '' : chars.slice(0, width - 1).join('') + '…';
}

/** Cell width in columns (characters, as cut counts them). */
function columns(text: string): number {
  return [...text].length;
}

/**
 * Column widths that fit `total` columns with the two-space separators:
 * the widest column gives way first, one column at a time, none below one.
 * With an infinite total (output to a pipe or file) nothing is cut.
 */
function fit(widths: number[], total: number): number[] {
  const fitted = [...widths];
  let excess = fitted.reduce((n, w) => n + w, 0) + 2 * (fitted.length - 1) - total;
  while (excess > 0) {
    const widest = fitted.reduce((best, w, i) => (w >= fitted[best]! ? i : best), 0);
    if (fitted[widest]! <= 1) break;
    fitted[widest]!--;
    excess--;
  }
  return fitted;
}

const LABEL_STYLE: Record<string, Style> = { verified: 'green', reference: 'cyan', community: 'yellow', QUARANTINED: 'red' };

function labelText(display: Display, label: string): string {
  return paint(display, LABEL_STYLE[label] ?? 'dim', label);
}

/**
 * Lays out rows in columns, the one place a table is shaped: on a terminal
 * every line fits its width (separators included), the widest columns cut
 * first; to a pipe or a file no cell is ever cut.
 */
export function table(display: Display, headers: string[], rows: string[][], styles: Array<((cell: string) => string) | undefined> = []): string {
  const widths = fit(headers.map((h, i) => Math.max(columns(h), ...rows.map((r) => columns(r[i] ?? '')))), display.width);
  const line = (cells: string[], styled: boolean): string =>
    cells
      .map((cell, i) => {
        const shortened = cut(cell, widths[i]!);
        const text = i === cells.length - 1 ? shortened : shortened + ' '.repeat(widths[i]! - columns(shortened));
        const style = styled ? styles[i] : undefined;
        return style ? style(text) : text;
      })
      .join('  ')
      .trimEnd();
  return [paint(display, 'bold', line(headers, false)), ...rows.map((r) => line(r, true))].join('\n');
}

const PROVENANCE_TEXT = { all: 'provenance', some: 'partial provenance', none: 'no provenance' } as const;

export function renderSearch(display: Display, result: SearchResult): string {
  const suggestion = result.suggestion;
  const searched = suggestion ? suggestion.query : result.query;
  // the query was corrected: say so first, and the results below are for the corrected words
  const note = suggestion ? `Did you mean "${clean(suggestion.query)}"? Showing results for it (${suggestion.corrections.map((c) => `${clean(c.from)} -> ${clean(c.to)}`).join(', ')}).\n` : '';
  if (result.results.length === 0) {
    const filtered = Object.keys(result.filters).length > 0;
    return note + (result.query === '' && filtered ? 'No packages match these filters.' : `No packages match ${JSON.stringify(clean(searched))}${filtered ? ' with these filters' : ''}.`);
  }
  const rows = result.results.map((hit) => [
    clean(hit.name),
    hit.quarantine ? 'QUARANTINED' : hit.label,
    hit.class,
    hit.ecosystem,
    clean(hit.latest ?? '-'),
    clean(hit.description),
  ]);
  const labelColumn = (cell: string): string => labelText(display, cell.trimEnd()) + cell.slice(cell.trimEnd().length);
  return note + table(display, ['NAME', 'LABEL', 'CLASS', 'ECO', 'LATEST', 'DESCRIPTION'], rows, [(c) => paint(display, 'bold', c), labelColumn]);
}

function section(display: Display, title: string, lines: string[]): string[] {
  return lines.length === 0 ? [] : ['', paint(display, 'bold', title), ...lines.map((l) => '  ' + l)];
}

export function renderInfo(display: Display, info: PackageInfo): string {
  const { entry, summary } = info;
  const out: string[] = [
    `${paint(display, 'bold', clean(entry.name))} ${paint(display, 'dim', `(${entry.ecosystem}, ${entry.class})`)}  ${labelText(display, entry.label.value)}  ${PROVENANCE_TEXT[summary.provenance]}`,
    clean(entry.description),
  ];
  const facts: Array<[string, string | undefined]> = [
    ['latest', info.latest ?? 'no pinned version'],
    ['homepage', entry.homepage],
    ['license', entry.license],
    ['capabilities', summary.capabilities.join(', ') || undefined],
    ['adapters', summary.adapters.join(', ') || undefined],
    ['models', summary.llms.join(', ') || undefined],
    ['runtime', entry.compatibility?.runtime],
    ['contract', entry.compatibility?.contract],
    ['orchestrators', entry.compatibility?.orchestrators?.join(', ')],
  ];
  out.push(...facts.filter(([, v]) => v !== undefined).map(([k, v]) => `${paint(display, 'dim', k.padEnd(13))}${clean(v!)}`));
  out.push(
    ...section(display, 'Label', [
      `${entry.label.value}, set by ${clean(entry.label.by)} at ${clean(entry.label.at)}`,
      clean(entry.label.reason),
      info.labelRecord
        ? `audit log record #${info.labelRecord.seq} by ${clean(info.labelRecord.by)}${info.labelRecord.signed ? `, signed by key ${info.labelRecord.signed.slice(0, 16)}` : info.labelRecord.keyid ? ` (signature not checked: no root)` : ', unsigned'}`
        : 'not in the audit log',
    ]),
  );
  const trust = entry.trust;
  const trustLines: string[] = [];
  if (trust?.repository) trustLines.push(`repository  ${clean(trust.repository)}`);
  if (trust?.author) trustLines.push(`author      ${clean(trust.author)}`);
  if (trust?.publisher) {
    const p = trust.publisher;
    trustLines.push(
      p.kind === 'google'
        ? `publisher   Google service account ${clean(p.email)} (${clean(p.issuer)})`
        : `publisher   ${clean(p.repository)} ${clean(p.workflow)}${p.ref ? ' @ ' + clean(p.ref) : ''} (${clean(p.issuer)}${p.kind === 'gitlab' ? '' : `, runner ${p.runner ?? 'github-hosted'}`})`,
    );
  } else {
    trustLines.push('publisher   not pinned (no provenance identity to check against)');
  }
  out.push(...section(display, 'Trust', trustLines));
  const versions = Object.entries(entry.versions);
  out.push(
    ...section(
      display,
      `Versions (${versions.length} pinned)`,
      versions.length === 0
        ? ['none pinned yet: no digests have been recorded for this package']
        : versions.flatMap(([version, v]) => {
            const state = [v.provenance ? 'provenance' : 'no provenance', v.yanked ? paint(display, 'red', `yanked: ${clean(v.yanked.reason)}`) : '', v.deprecated ? `deprecated: ${clean(v.deprecated.reason)}` : '']
              .filter(Boolean)
              .join(', ');
            const head = `${clean(version).padEnd(10)} ${state}${v.published ? `, published ${clean(v.published)}` : ''}`;
            const pins = v.integrity ? [`  ${clean(v.integrity)}${v.size ? ` (${v.size} bytes)` : ''}`] : (v.files ?? []).map((f) => `  ${clean(f.filename)}  ${clean(f.integrity)}`);
            const drivers = declaredFor(entry, version);
            const declares = drivers ? `  declares ${clean(drivers.map((d) => `${d.meta.name} ${d.meta.version}`).join(', '))}` : '  declares nothing the index has read';
            return [head, ...pins, declares];
          }),
    ),
  );
  // each declaration once, with the versions that declare it
  for (const declaration of entry.declarations ?? []) {
    const by = declaration.versions
      ? `declared by ${clean(declaration.versions.map((v) => (Object.hasOwn(entry.versions, v) ? v : `${v} (not pinned)`)).join(', '))}`
      : 'read from source, for no known release';
    for (const driver of declaration.drivers) {
      const m = driver.meta;
      const lines = [
        by,
        `id ${clean(m.id)}, version ${clean(m.version)}`,
        `bindings ${clean(m.bindings.map((b) => `${b.capability}/${b.adapter} (${b.spec_format})`).join(', ')) || 'none of its own (serves what the drivers it composes serve)'}`,
        ...(driver.export ? [`entry point ${clean(driver.export)}`] : []),
        `models ${m.target_llms === null || m.target_llms === undefined ? 'none (tool driver)' : clean(m.target_llms.join(', '))}`,
        `capabilities ${clean(m.capabilities.join(', ')) || 'none'}`,
        ...(driver.tools ?? []).map((t) => `tool ${paint(display, 'bold', clean(t.name))}  ${clean(t.description || t.title || '')}`),
        ...(driver.metaSource ? [paint(display, 'dim', `declared in ${clean(driver.metaSource)}`)] : []),
      ];
      out.push(...section(display, `${driver.kind} ${clean(m.name)}`, lines));
    }
  }
  const security = entry.security;
  out.push(
    ...section(display, 'Security', [
      ...(security?.permissions?.length ? [`permissions ${security.permissions.join(', ')}`] : []),
      ...(security?.notes ?? []).map((n) => `${n.severity ? `[${n.severity}] ` : ''}${clean(n.text)}`),
    ]),
  );
  out.push('', paint(display, 'dim', `source ${clean(info.source)}`));
  return out.join('\n');
}

export function renderBuild(status: IndexStatus): string {
  return `Indexed ${status.packages} packages from ${clean(status.indexDir)}\ninto ${clean(status.database)}`;
}

export function renderValidation(display: Display, report: ValidationReport): string {
  const warnings = report.warnings.map((w) => `${paint(display, 'yellow', 'warning')} ${paint(display, 'yellow', w.code)} ${clean(w.message)}`);
  const counted = warnings.length > 0 ? `, ${warnings.length} warning(s)` : '';
  if (report.problems.length === 0) return [...warnings, `${clean(report.indexDir)}: ${report.files} files, ${report.packages} packages, no problems${counted}`].join('\n');
  const lines = report.problems.map((p) => `${paint(display, 'red', p.code)} ${clean(p.message)}`);
  return [...lines, ...warnings, '', `${report.problems.length} problem(s)${counted} in ${report.files} files (${report.packages} entries pass their own checks)`].join('\n');
}

export function renderError(display: Display, error: McsError): string {
  return `${paint(display, 'red', 'error')} ${paint(display, 'bold', error.code)}: ${clean(error.message)}`;
}

const VERDICT_TEXT = {
  verified: ['green', 'verified'],
  unpinned: ['yellow', 'unpinned: valid, but no publisher identity was pinned to compare'],
  'missing-provenance': ['yellow', 'no provenance: nothing says who built it'],
  failed: ['red', 'FAILED'],
} as const;

const STATUS_TEXT = { pass: ['green', 'pass'], fail: ['red', 'FAIL'], skip: ['dim', 'skip'] } as const;

function resultLines(display: Display, results: CheckResult[]): string[] {
  return results.map((result) => {
    const [resultStyle, resultText] = STATUS_TEXT[result.status];
    const code = result.code ? ` ${paint(display, 'bold', result.code)}` : '';
    return `  ${paint(display, resultStyle, resultText.padEnd(4))}  ${result.check.padEnd(19)}${code} ${clean(result.message)}`;
  });
}

export function renderArtifactVerdict(display: Display, verdict: FileArtifactVerdict): string {
  const [style, text] = VERDICT_TEXT[verdict.status];
  return [`${paint(display, 'bold', clean(verdict.artifact))}  ${paint(display, style, text)}`, ...resultLines(display, verdict.results), paint(display, 'dim', `  trusted root: ${clean(verdict.trustedRoot)}`)].join('\n');
}

export function renderVerdict(display: Display, verdict: TarballVerdict | DistVerdict): string {
  // a PyPI file without provenance that matches its pin is what the index promised for it, and is said so
  const digestPinned = 'filename' in verdict && verdict.status === 'missing-provenance' && verdict.results.some((r) => r.check === 'integrity' && r.status === 'pass');
  const [style, text] = digestPinned ? (['green', 'pinned by digest (no provenance expected)'] as const) : VERDICT_TEXT[verdict.status];
  const file = 'filename' in verdict ? `  ${clean(verdict.filename)}` : '';
  const lines = [`${paint(display, 'bold', `${clean(verdict.package)}@${clean(verdict.version)}`)}${file}  ${paint(display, style, text)}`, ...resultLines(display, verdict.results)];
  if (verdict.notChecked.length > 0) lines.push(paint(display, 'yellow', `  not checked: ${verdict.notChecked.map((n) => n.check).join(', ')} (the skip lines say why)`));
  lines.push(
    paint(display, 'dim', `  identity from: ${verdict.identitySource}; index: ${verdict.indexed.package ? (verdict.indexed.version ? `package and version pinned${'file' in verdict.indexed ? (verdict.indexed.file ? ', file pinned' : ', file not pinned') : ''}` : 'package listed, version not pinned') : 'package not listed'}`),
    paint(display, 'dim', `  trusted root: ${clean(verdict.roots.trustedRoot)}`),
    paint(display, 'dim', `  registry keys: ${clean(verdict.roots.registryKeys)}`),
  );
  return lines.join('\n');
}

export function renderOnlineReport(display: Display, report: { results: Array<RegistryVerdict | { requested: string; error: McsError }>; counts?: InstalledReport['counts']; projectDir?: string }): string {
  const blocks = report.results.map((result) =>
    'error' in result ? `${paint(display, 'bold', clean(result.requested))}  ${paint(display, 'red', 'not checked')}\n  ${renderError(display, result.error)}` : renderVerdict(display, result),
  );
  if (report.counts) {
    const c = report.counts;
    blocks.push(
      report.results.length === 0
        ? `No MCS packages in ${clean(report.projectDir ?? '')}/node_modules.`
        : `${report.results.length} MCS packages: ${c.verified} verified, ${c.failed} failed, ${c['missing-provenance']} without provenance, ${c.unpinned} unpinned, ${c.error} not checked`,
    );
  }
  return blocks.join('\n\n');
}

const INSTALLED_PYTHON_TEXT = {
  verified: ['green', 'verified'],
  failed: ['red', 'FAILED'],
  unpinned: ['yellow', 'unpinned: not compared'],
  'not-in-index': ['yellow', 'not in the index'],
} as const;

/** `verify --installed --python`: one line per MCS distribution with what was found, then the counts. */
export function renderInstalledPython(display: Display, report: InstalledPythonReport): string {
  const blocks = report.results.map((result) => {
    if ('error' in result) return `${paint(display, 'bold', clean(result.requested))}  ${paint(display, 'red', 'not checked')}\n  ${renderError(display, result.error)}`;
    const [style, text] = INSTALLED_PYTHON_TEXT[result.status];
    const code = result.code ? `${result.code}: ` : '';
    return `${paint(display, 'bold', `pypi:${clean(result.package)}@${clean(result.version)}`)}  ${paint(display, style, text)}\n  ${clean(code + result.message)}`;
  });
  const c = report.counts;
  const where = `${clean(report.sitePackages.path)}${report.sitePackages.python ? ` (from ${clean(report.sitePackages.python)})` : ''}`;
  blocks.push(
    report.results.length === 0
      ? `No MCS distributions in ${where}.`
      : `${report.results.length} MCS distributions in ${where}: ${c.verified} verified, ${c.failed} failed, ${c.unpinned} unpinned, ${c['not-in-index']} not in the index, ${c.error} not checked`,
  );
  const unverified = report.startup.filter((f) => f.status === 'not-verified');
  if (report.startup.length > 0) {
    const line = (f: InstalledPythonReport['startup'][number]): string =>
      `  ${f.status === 'not-verified' ? paint(display, 'red', 'NOT VERIFIED') : paint(display, 'green', f.status === 'installed' ? `installed by ${clean(f.by ?? '')}` : 'allowed (--allow-pth)')}  ${clean(f.path)}${f.sha256 ? `  sha256 ${f.sha256}` : ''}`;
    const way = unverified.length > 0 ? '\n  Each runs code at every start of this Python, before any driver. Read it; remove it, or accept it as it is with --allow-pth NAME.' : '';
    blocks.push(`Startup files at the site-packages root (.pth, sitecustomize, usercustomize):\n${report.startup.map(line).join('\n')}${way}`);
  }
  return blocks.join('\n\n');
}

const PYPI_STATUS_TEXT = {
  verified: ['green', 'verified'],
  'pinned-by-digest': ['green', 'pinned by digest: every file matches its pin (no provenance expected)'],
  unpinned: ['yellow', 'unpinned: the index does not pin this version (not verified)'],
  'not-checked': ['yellow', 'NOT CHECKED: a file could not be checked (see below); nothing is verified'],
  failed: ['red', 'FAILED'],
} as const;

/** A PyPI version: which version and why, the checks of the version as a whole, then each file's verdict. */
export function renderPypiReport(display: Display, results: Array<PypiVersionVerdict | { requested: string; error: McsError }>): string {
  return results
    .map((result) => {
      if ('error' in result) return `${paint(display, 'bold', clean(result.requested))}  ${paint(display, 'red', 'not checked')}\n  ${renderError(display, result.error)}`;
      const [style, text] = PYPI_STATUS_TEXT[result.status];
      const newer = result.newestOnIndex ? `; the index's newest is ${clean(result.newestOnIndex)}` : '';
      const lines = [
        `${paint(display, 'bold', `pypi:${clean(result.package)}@${clean(result.version)}`)}  ${paint(display, style, text)}`,
        paint(display, 'dim', `  version: ${result.versionSource}${newer}; PyPI index: ${clean(result.indexUrl)} (from ${clean(result.indexSource)})`),
        ...resultLines(display, result.results),
      ];
      for (const file of result.files) {
        lines.push('error' in file ? `${paint(display, 'bold', clean(file.filename))}  ${paint(display, 'red', 'not checked')}\n  ${renderError(display, file.error)}` : renderVerdict(display, file));
      }
      return lines.join('\n');
    })
    .join('\n\n');
}
