import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { benchStrategies } from './bench-world.js';
import { writeWorld, writeConfig } from './daemon.bench.js';
const defs = benchStrategies(10_000, { verticals: 0.3 });
const { dir, scenario } = writeWorld(defs);
const env = { ...process.env, LEGGUARD_FROM: 'dist', FORCE_COLOR: '0' };
const gw = spawn(process.execPath, ['bin/legguard.mjs', 'sim-gateway', '--port', '0', '--host', '127.0.0.1', '--scenario', scenario, '--lockstep'], { env });
const port = await new Promise<number>((res) => { let b = ''; gw.stdout.on('data', (c) => { b += c; const m = /TWS API on 127\.0\.0\.1:(\d+)/.exec(b); if (m) res(Number(m[1])); }); });
const config = writeConfig(dir, 'run', port, defs);
for (const prof of [false, false, false, true]) {
  const t0 = performance.now();
  const g = spawn(process.execPath, [...(prof ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : []), '/work/wt/lease/bin/legguard.mjs', 'run', '--config', config, '--clock', 'lockstep'], { env, cwd: dir });
  await new Promise<void>((res) => { let b = ''; const on = (c: Buffer) => { b += c; for (;;) { const i = b.indexOf('\n'); if (i < 0) break; const l = b.slice(0, i); b = b.slice(i + 1); console.log(`${(performance.now() - t0).toFixed(0).padStart(6)} ${l.slice(0, 150)}`); if (/guarding 10000/.test(l)) { g.kill('SIGTERM'); } } }; g.stdout.on('data', on); g.stderr.on('data', on); g.on('exit', () => res()); });
}
gw.kill();
