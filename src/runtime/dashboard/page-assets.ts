// The dashboard page's files, built at package time (scripts/build-dashboard.mjs: esbuild
// bundles web/dashboard into dist/dashboard-page/) and served from memory: nothing is
// fetched from elsewhere, so the page works offline.

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { errors } from '../../errors.js';

export interface PageAsset {
  readonly body: Buffer;
  readonly contentType: string;
}

/** The files the page consists of, by the path they are served at. */
const FILES: Readonly<Record<string, { file: string; contentType: string }>> = {
  '/': { file: 'index.html', contentType: 'text/html; charset=utf-8' },
  '/assets/app.js': { file: 'app.js', contentType: 'text/javascript; charset=utf-8' },
  '/assets/app.css': { file: 'app.css', contentType: 'text/css; charset=utf-8' },
};

/** Where the built page is: beside the compiled code (dist/), or dist/ seen from the sources (tests, tsx). */
const CANDIDATES = [new URL('../../dashboard-page/', import.meta.url), new URL('../../../dist/dashboard-page/', import.meta.url)];

export async function loadPageAssets(): Promise<ReadonlyMap<string, PageAsset>> {
  for (const dir of CANDIDATES) {
    try {
      const assets = new Map<string, PageAsset>();
      for (const [path, { file, contentType }] of Object.entries(FILES)) {
        assets.set(path, { body: await readFile(new URL(file, dir)), contentType });
      }
      return assets;
    } catch {
      // not this one
    }
  }
  throw new errors.SY_ERR_DASHBOARD_ASSETS(CANDIDATES.map((u) => fileURLToPath(u)));
}
