#!/usr/bin/env node
// `npm run build` (also on `prepare` and `prepack`): compiles src/ to dist/ (what an installed legguard runs) and
// copies the files the code reads at run time beside it (the dashboard's page, script and style). Emit only: the
// type-check is `npm run typecheck` / `npm test`, so `npm ci` does not pay for it twice.
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const started = Date.now();
rmSync(`${root}dist`, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--noCheck'], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  console.error(`legguard build: tsc failed (exit ${r.status ?? r.signal})`);
  process.exit(r.status ?? 1);
}
cpSync(`${root}src/web/assets`, `${root}dist/web/assets`, { recursive: true });
console.log(`legguard build: src/ compiled to dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
