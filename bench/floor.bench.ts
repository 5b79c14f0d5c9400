// The floors, measured in the same run as everything else: what one fsync of this disk costs (the least a durable
// commit can take; in the directory the SQLite benches write to) and a loopback TCP round trip (the least a message to
// TWS and its answer can take on one machine).
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { summarize, type BenchRow } from './bench-row.js';

const FSYNCS = 300;
const ROUND_TRIPS = 2_000;

export async function run(): Promise<BenchRow[]> {
  return [fsyncFloor(), await loopbackFloor()];
}

function fsyncFloor(): BenchRow {
  return { area: 'floor', name: `fsync of a 4 KiB write (${tmpdir()})`, unit: 'ms', ...summarize(fsyncSamples(FSYNCS)), note: 'the least one durable commit costs on this disk' };
}

/**
 * `n` timed fsyncs of a 4 KiB write in the directory the SQLite benches write to (after 10 not counted): a bench
 * whose target is "one fsync plus ..." measures its own floor with it, in the same run.
 */
export function fsyncSamples(n: number): number[] {
  const dir = mkdtempSync(join(tmpdir(), 'legguard-bench-fsync-'));
  try {
    const fd = openSync(join(dir, 'f'), 'w');
    const page = Buffer.alloc(4096, 1);
    const samples: number[] = [];
    try {
      for (let i = 0; i < n + 10; i++) {
        writeSync(fd, page, 0, page.length, (i % 64) * page.length);
        const s = performance.now();
        fsyncSync(fd);
        if (i >= 10) samples.push(performance.now() - s);
      }
    } finally {
      closeSync(fd);
    }
    return samples;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function loopbackFloor(): Promise<BenchRow> {
  const server = createServer((s) => s.on('data', (d) => s.write(d)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const sock: Socket = connect({ port, host: '127.0.0.1', noDelay: true });
  await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
  const samples: number[] = [];
  try {
    for (let i = 0; i < ROUND_TRIPS + 50; i++) {
      const s = performance.now();
      await new Promise<void>((resolve) => {
        sock.once('data', () => resolve());
        sock.write('x');
      });
      if (i >= 50) samples.push(performance.now() - s);
    }
  } finally {
    sock.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  return { area: 'floor', name: 'loopback TCP round trip (1 byte, Nagle off)', unit: 'ms', ...summarize(samples), note: 'the least a request to TWS and its answer cost on one machine' };
}
