// The package as a person gets it: `npm pack` (which builds dist/ through `prepare`), `npm install -g` of the tarball
// into a temporary prefix, then the installed `legguard demo`. Slow (minutes: npm resolves the dependencies from the
// registry or its cache and better-sqlite3 compiles when no prebuilt binary is reachable), so it runs only with
// LEGGUARD_PACK_TEST=1 (`npm run test:install`, and `.ci/run` after `npm test`); otherwise it says it skipped and why.
// With no route to the registry it skips, saying so; any other failure fails with npm's output.
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENABLED = process.env.LEGGUARD_PACK_TEST === '1';
/** npm's own codes for "cannot reach the registry" (and, offline, "not in the cache"). */
const NO_ROUTE = /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|ENOTCACHED)\b/;

/** The environment without npm's lifecycle variables (when run from `npm run`), which would steer the child npm. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return { ...env, FORCE_COLOR: '0', NO_UPDATE_NOTIFIER: '1' };
}

function run(cmd: string, args: readonly string[], cwd: string, timeoutMs: number): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, env: cleanEnv(), encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 2 ** 20 });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}\n${r.stdout}\n${r.stderr}`);
  return r;
}

const said = (r: SpawnSyncReturns<string>): string => `exit ${r.status ?? r.signal}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

test(
  'npm pack, npm install -g of the tarball, then the installed legguard runs the compiled demo',
  { skip: ENABLED ? false : 'set LEGGUARD_PACK_TEST=1 (npm run test:install): packs, installs and runs the package, minutes', timeout: 30 * 60_000 },
  (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'legguard-pack-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));

    const pack = run('npm', ['pack', '--pack-destination', dir], ROOT, 10 * 60_000);
    assert.equal(pack.status, 0, `npm pack failed: ${said(pack)}`);
    const tarball = readdirSync(dir).find((f) => /^legguard-.*\.tgz$/.test(f));
    assert.ok(tarball !== undefined, `npm pack left no legguard-*.tgz in ${dir}: ${said(pack)}`);

    // What ships: the compiled code with the files it reads at run time, never the TypeScript source or the tests.
    const list = run('tar', ['tzf', join(dir, tarball)], dir, 60_000);
    assert.equal(list.status, 0, said(list));
    const files = new Set(list.stdout.split('\n').filter((l) => l.length > 0));
    for (const f of ['package/bin/legguard.mjs', 'package/dist/cli/main.js', 'package/dist/web/assets/index.html', 'package/scenarios/iron-condor-put-assigned.yaml']) {
      assert.ok(files.has(f), `${f} is not in the tarball`);
    }
    const leaked = [...files].filter((f) => f.startsWith('package/src/') || f.startsWith('package/test/') || f.endsWith('.ts'));
    assert.deepEqual(leaked, [], 'source or tests in the tarball');

    const prefix = join(dir, 'prefix');
    const install = run('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', join(dir, tarball)], dir, 20 * 60_000);
    if (install.status !== 0 && NO_ROUTE.test(install.stderr + install.stdout)) {
      t.skip(`npm could not reach the registry to install the tarball's dependencies (${NO_ROUTE.exec(install.stderr + install.stdout)![1]}): nothing installed, nothing checked past the tarball`);
      return;
    }
    assert.equal(install.status, 0, `npm install -g failed: ${said(install)}`);
    const bin = join(prefix, 'bin', 'legguard');
    assert.ok(existsSync(bin), `no ${bin} after the install`);
    // The installed copy has no TypeScript and no tsx: it can only be running dist/.
    assert.equal(existsSync(join(prefix, 'lib', 'node_modules', 'legguard', 'node_modules', 'tsx')), false, 'tsx installed as a dependency');

    const cwd = join(dir, 'home');
    mkdirSync(cwd);
    const version = run(bin, ['--version'], cwd, 60_000);
    assert.equal(version.status, 0, said(version));
    assert.match(version.stdout, /^legguard \d+\.\d+\.\d+, running dist\/ \(compiled\)\n$/);

    const demo = run(bin, ['demo', '--html', 'reports'], cwd, 10 * 60_000);
    assert.equal(demo.status, 0, `installed legguard demo failed: ${said(demo)}`);
    assert.match(demo.stdout, /Every seed scenario ended with its strategy CLOSED and flat\./);
    for (const s of ['iron-condor-put-assigned', 'short-call-assigned-ex-dividend', 'assignment-before-time-exit', 'short-call-closed-before-ex-dividend']) {
      assert.ok(existsSync(join(cwd, '.legguard', 'replay', s, 'legguard.db')), `no SQLite record for ${s}`);
      // The report inlines the dashboard's style (dist/web/assets) and uPlot (from the installed node_modules).
      const html = readFileSync(join(cwd, 'reports', `${s}.html`), 'utf8');
      assert.match(html, /\.uplot\b/, `${s}.html has no uPlot style`);
      assert.ok(html.length > 20_000, `${s}.html is ${html.length} characters: assets missing?`);
    }
  },
);
