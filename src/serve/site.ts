/**
 * `mcs-pkg index site OUT/`: the web pages as static files for any static
 * host or CDN. Package pages are the same HTML the server renders; the search
 * page filters packages.json in the browser (and lists every package for a
 * reader without JavaScript, up to a size a page can hold). The folder is
 * written beside OUT and renamed into place, so a failure leaves no half site.
 */
import { assertOutsideInstall } from '../maintain/target.js';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { McsError } from '../errors.js';
import { listSources } from '../index/sources.js';
import type { SearchHit } from '../index/search.js';
import { APP_JS, ICON_SVG, STYLE_CSS } from './assets.js';
import { packagePage, packagePath, searchPage, type PageContext } from './html.js';
import { jsonText } from './routes.js';
import { ServedHolder } from './served.js';
import type { OpenIndexOptions } from '../index/store.js';

/** Above this many packages the static search page lists none without JavaScript (the list would outweigh the page). */
const MAX_LISTED_WITHOUT_JS = 1000;

export interface SiteResult {
  outDir: string;
  packages: number;
  snapshot: string;
}

/** Writes the site of an index into `outDir`, which must not exist or be empty. */
export async function writeSite(outDir: string, options: Pick<OpenIndexOptions, 'indexDir' | 'cacheDir'> = {}): Promise<SiteResult> {
  assertOutsideInstall(outDir, 'give a folder of your own for the site (outside the program\'s files)');
  const target = resolve(outDir);
  if (existsSync(target) && readdirSync(target).length > 0) {
    throw new McsError('E_USAGE', `${outDir} is not empty; give a new or empty folder for the site (nothing was written)`, { details: { outDir } });
  }
  const holder = new ServedHolder(options);
  const partial = join(dirname(target), `.${basename(target)}.partial-${process.pid}`);
  try {
    const served = await holder.get();
    const context: PageContext = { freshness: served.freshness(), snapshot: served.id, mode: 'static' };
    rmSync(partial, { recursive: true, force: true });
    const write = (rel: string, text: string): void => {
      const file = join(partial, rel);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, text, { flag: 'wx' });
    };
    const hits: SearchHit[] = [];
    for (const source of listSources(served.index.status.indexDir).sources) {
      const match = /^(npm|pypi)\/(.+)\.json$/.exec(source.path);
      if (!match) continue;
      const info = served.index.getPackage(`${match[1]}:${match[2]}`);
      const { entry, summary } = info;
      hits.push({ ...summary, name: entry.name, ecosystem: entry.ecosystem, class: entry.class, label: entry.label.value, description: entry.description, latest: info.latest, match: 'filter' });
      write(join(packagePath(entry.ecosystem, entry.name).split('/').map(decodeURIComponent).join('/'), 'index.html'), packagePage(info, served.history.get(`${entry.ecosystem}:${entry.name}`) ?? [], context));
    }
    hits.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.ecosystem < b.ecosystem ? -1 : 1));
    write('packages.json', jsonText(hits));
    write('index.html', searchPage({ query: '', filters: {}, ...(hits.length <= MAX_LISTED_WITHOUT_JS ? { all: hits } : {}) }, context));
    write('assets/style.css', STYLE_CSS);
    write('assets/app.js', APP_JS);
    write('assets/icon.svg', ICON_SVG);
    if (existsSync(target)) rmdirSync(target);
    renameSync(partial, target);
    return { outDir: target, packages: hits.length, snapshot: served.id };
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    if (error instanceof McsError) throw error;
    throw new McsError('E_INDEX_IO', `cannot write the site to ${outDir}: ${(error as Error).message}`, { cause: error, details: { outDir } });
  } finally {
    holder.close();
  }
}
