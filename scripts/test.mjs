#!/usr/bin/env node
// The one test command (README, `npm test`, `.ci/run`): type-check, lint, import cycles, then every *.test.ts under src/ and test/
// through Node's own test runner with tsx as the loader.
//
//   node scripts/test.mjs                 everything
//   node scripts/test.mjs --no-static     skip type-check and lint
//   node scripts/test.mjs test/store      only test files under these paths (implies nothing about static checks)
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { availableParallelism } from 'node:os';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const noStatic = args.includes('--no-static');
const paths = args.filter((a) => !a.startsWith('--'));

function run(label, cmd, cmdArgs) {
  const started = Date.now();
  console.log(`\n== ${label}: ${cmd} ${cmdArgs.join(' ')}`);
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit', env: process.env });
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (r.status !== 0) {
    console.log(`== ${label} FAILED after ${secs} s (exit ${r.status ?? r.signal})`);
    process.exit(r.status ?? 1);
  }
  console.log(`== ${label} ok in ${secs} s`);
}

function collect(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) collect(p, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

if (!noStatic && paths.length === 0) {
  run('typecheck', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']);
  run('lint', 'npx', ['eslint', '.']);
  // Import cycles under src/ (type-only imports count too): dpdm, as `npm run cycles`.
  run('import cycles', 'npx', ['dpdm', '--no-warning', '--no-tree', '--no-progress', '--exit-code', 'circular:1', 'src/**/*.ts']);
}

const roots = paths.length > 0 ? paths : ['src', 'test'];
const files = [];
for (const r of roots) {
  const abs = join(root, r);
  if (r.endsWith('.ts')) files.push(r);
  else collect(abs, files);
}
files.sort();
if (files.length === 0) {
  console.error(`no test files under ${roots.join(', ')}`);
  process.exit(1);
}
const concurrency = String(Math.max(2, availableParallelism()));
run(`tests (${files.length} files)`, process.execPath, [
  '--import',
  'tsx',
  // fast-check's properties from a fixed seed (LEGGUARD_PROPERTY_SEED to replay or explore another).
  '--import',
  './test/support/property-seed.ts',
  '--test',
  `--test-concurrency=${concurrency}`,
  // A watchdog for a wedged test, not a speed limit: the wire drills take 30-170 s with every core busy elsewhere.
  '--test-timeout=600000',
  '--test-reporter=spec',
  ...files,
]);
