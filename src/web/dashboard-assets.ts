import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

const require = createRequire(import.meta.url);

/**
 * The dashboard's files, served from the package itself (no CDN: it works offline and on a machine with no route
 * out): the page, its script and style from ./assets, the uPlot chart library from node_modules.
 */
const FILES: Readonly<Record<string, { readonly path: () => string; readonly type: string }>> = {
  'index.html': { path: () => local('index.html'), type: 'text/html; charset=utf-8' },
  'dashboard.js': { path: () => local('dashboard.js'), type: 'text/javascript; charset=utf-8' },
  'report.js': { path: () => local('report.js'), type: 'text/javascript; charset=utf-8' },
  'dashboard.css': { path: () => local('dashboard.css'), type: 'text/css; charset=utf-8' },
  'uPlot.iife.min.js': { path: () => require.resolve('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  'uPlot.min.css': { path: () => require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

function local(name: string): string {
  return fileURLToPath(new URL(`./assets/${name}`, import.meta.url));
}

const cache = new Map<string, Asset>();

/** The asset by its name under /assets/ (or `index.html`), or null for any other name: no path is ever joined. */
export function dashboardAsset(name: string): Asset | null {
  const f = Object.hasOwn(FILES, name) ? FILES[name] : undefined;
  if (f === undefined) return null;
  let a = cache.get(name);
  if (a === undefined) {
    a = { type: f.type, body: readFileSync(f.path()) };
    cache.set(name, a);
  }
  return a;
}
