// `npm run bench`: runs every bench/<area>.bench.ts (or the ones named on the command line) and prints one table,
// headed by the machine it ran on: each row's figures, its target and the ratio to it where it has one. Figures are
// medians and p99s from this one run; the `floor` rows (this disk's fsync, a loopback round trip) are measured in the
// same run, so a row can be read against what the machine allows.
import { readdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { targetRatio, type BenchModule, type BenchRow } from './bench-row.js';

const dir = new URL('.', import.meta.url).pathname;
const wanted = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)))
  // The floors first: they are what the rest is read against.
  .sort((a, b) => Number(b.startsWith('floor')) - Number(a.startsWith('floor')) || a.localeCompare(b));

const cpu = cpus()[0]?.model ?? 'unknown cpu';
const machine = `machine: ${cpu}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; node ${process.version}`;
console.log(machine);

const rows: BenchRow[] = [];
for (const f of files) {
  const mod = (await import(new URL(f, import.meta.url).href)) as BenchModule;
  const started = Date.now();
  const got = await mod.run();
  rows.push(...got);
  console.error(`  (${f}: ${got.length} rows in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
}
if (rows.length === 0) console.log('no benchmarks found');
else printTable(rows);

function fmt(n: number | undefined): string {
  if (n === undefined) return '';
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 100) return n.toFixed(0);
  if (Math.abs(n) >= 1) return n.toFixed(2);
  return n.toPrecision(3);
}

function printTable(all: readonly BenchRow[]): void {
  const head = ['area', 'what', 'unit', 'median', 'p99', 'value', 'n', 'target', 'ratio', ''];
  const body = all.map((r) => {
    const t = targetRatio(r);
    const target = r.target === undefined ? '' : `${r.target.better === 'higher' ? '>=' : '<='} ${fmt(r.target.value)} (${r.target.of})`;
    return [r.area, r.name, r.unit, fmt(r.median), fmt(r.p99), fmt(r.value), r.samples === undefined ? '' : String(r.samples), target, t === null ? '' : fmt(t.ratio), t === null ? '' : t.met ? 'met' : 'NOT MET'];
  });
  const widths = head.map((h, i) => Math.min(i === 1 ? 110 : 40, Math.max(h.length, ...body.map((b) => b[i]!.length))));
  const line = (cells: readonly string[]): string => `| ${cells.map((c, i) => (i >= 3 && i <= 8 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const b of body) console.log(line(b));
  const notes = all.filter((r) => r.note);
  if (notes.length > 0) {
    console.log('\nnotes:');
    for (const r of notes) console.log(`- [${r.area}] ${r.name}: ${r.note}`);
  }
}
