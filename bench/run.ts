// `npm run bench`: runs every bench/<area>.bench.ts (or the ones named on the command line) and prints one table,
// headed by the machine it ran on. Figures are medians and p99s from this one run; compare ratios, not absolutes.
import { readdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import type { BenchModule, BenchRow } from './bench-row.js';

const dir = new URL('.', import.meta.url).pathname;
const wanted = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)))
  .sort();

const cpu = cpus()[0]?.model ?? 'unknown cpu';
console.log(`machine: ${cpu}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; node ${process.version}`);

const rows: BenchRow[] = [];
for (const f of files) {
  const mod = (await import(new URL(f, import.meta.url).href)) as BenchModule;
  const started = Date.now();
  const got = await mod.run();
  rows.push(...got);
  for (const r of got) console.log(format(r));
  console.log(`  (${f} in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
}
if (rows.length === 0) console.log('no benchmarks found');

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 100) return n.toFixed(0);
  if (Math.abs(n) >= 1) return n.toFixed(2);
  return n.toPrecision(3);
}

function format(r: BenchRow): string {
  const parts = [`[${r.area}] ${r.name}:`];
  if (r.median !== undefined) parts.push(`median ${fmt(r.median)} ${r.unit}`);
  if (r.p99 !== undefined) parts.push(`p99 ${fmt(r.p99)} ${r.unit}`);
  if (r.value !== undefined) parts.push(`${fmt(r.value)} ${r.unit}`);
  if (r.samples !== undefined) parts.push(`(n=${r.samples})`);
  if (r.note) parts.push(`- ${r.note}`);
  return parts.join(' ');
}
