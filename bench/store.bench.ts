// Journal write throughput of the store with the durability settings used in production: SQLite in WAL with
// synchronous=FULL (every commit is fsynced before it resolves) and Postgres with synchronous_commit=on. Single-entry
// commits are what the engine does for most broker events; 100-entry batches show what batching buys.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openStore } from '../src/adapters/store/open-store.js';
import { redactUrl } from '../src/adapters/store/redact-url.js';
import { AccountId, ExecId, OrderRef } from '../src/core/ids.js';
import { EpochMs } from '../src/core/quantity.js';
import type { JournalEntry, StorePort } from '../src/ports/store.js';
import { postgresProblem, testPgUrl, testSchema } from '../test/support/postgres.js';
import { summarize, type BenchRow } from './bench-row.js';

const ACCOUNT = AccountId.unsafe('DU1234567');
const SINGLE_COMMITS = 300;
const BATCHES = 30;
const BATCH_SIZE = 100;

let seq = 0;
function execution(): JournalEntry {
  const n = ++seq;
  const execId = ExecId.unsafe(`0000e0d5.6571a8b2.01.${String(n).padStart(6, '0')}`);
  return {
    key: `exec:${execId}`,
    at: EpochMs.unsafe(1_769_585_400_000 + n),
    type: 'broker-event',
    account: ACCOUNT,
    strategyId: null,
    incidentId: null,
    data: {
      kind: 'execution',
      account: ACCOUNT,
      execId,
      orderId: String(1000 + n),
      orderRef: OrderRef.unsafe(`lg/ic-spy/ic-spy:assignment:1769585400000/g${n % 4}/1`),
      contract: { secType: 'OPT', symbol: 'SPY', right: 'C', strike: 460, expiry: '2026-01-30', multiplier: 100, style: 'american', settlement: 'physical', currency: 'USD' },
      side: 'BUY',
      qty: 1,
      price: 1.35,
      liquidation: false,
      tsEvent: 1_769_585_400_000 + n,
      tsInit: 1_769_585_400_000 + n,
    },
  };
}

async function measure(store: StorePort, label: string): Promise<BenchRow[]> {
  // Warm up the statement cache and the connection(s).
  for (let i = 0; i < 10; i++) await store.commit({ account: ACCOUNT, journal: [execution()] });

  const single: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < SINGLE_COMMITS; i++) {
    const s = performance.now();
    await store.commit({ account: ACCOUNT, journal: [execution()] });
    single.push(performance.now() - s);
  }
  const singleSecs = (performance.now() - t0) / 1000;

  const batched: number[] = [];
  const t1 = performance.now();
  for (let i = 0; i < BATCHES; i++) {
    const entries = Array.from({ length: BATCH_SIZE }, execution);
    const s = performance.now();
    await store.commit({ account: ACCOUNT, journal: entries });
    batched.push(performance.now() - s);
  }
  const batchSecs = (performance.now() - t1) / 1000;

  return [
    { area: 'journal', name: `${label}, single-entry commits`, unit: 'entries/s', value: SINGLE_COMMITS / singleSecs, samples: SINGLE_COMMITS },
    { area: 'journal', name: `${label}, single-entry commit latency`, unit: 'ms', ...summarize(single) },
    { area: 'journal', name: `${label}, ${BATCH_SIZE}-entry batches`, unit: 'entries/s', value: (BATCHES * BATCH_SIZE) / batchSecs, samples: BATCHES },
    { area: 'journal', name: `${label}, ${BATCH_SIZE}-entry commit latency`, unit: 'ms', ...summarize(batched) },
  ];
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];

  const dir = mkdtempSync(join(tmpdir(), 'legguard-bench-'));
  try {
    const sqlite = await openStore({ dataDir: dir });
    try {
      rows.push(...(await measure(sqlite, `SQLite (WAL, synchronous=FULL, ${tmpdir()})`)));
    } finally {
      await sqlite.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const url = testPgUrl();
  const problem = await postgresProblem(url);
  if (problem !== null) {
    rows.push({ area: 'journal', name: 'Postgres', unit: 'entries/s', note: `skipped: Postgres not reachable at ${redactUrl(url)} (${problem})` });
    return rows;
  }
  const schema = testSchema(url, 'bench');
  try {
    const pg = await openStore({ dataDir: '', databaseUrl: schema.url });
    try {
      rows.push(...(await measure(pg, `Postgres (synchronous_commit=on, ${redactUrl(url)})`)));
    } finally {
      await pg.close();
    }
  } finally {
    await schema.drop();
  }
  return rows;
}
