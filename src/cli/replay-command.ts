import { rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { loadScenario } from '../adapters/sim/load-scenario.js';
import { openStore, SQLITE_FILE } from '../adapters/store/open-store.js';
import { replay, type ReplayResult } from '../app/replay.js';
import { formatNyTime } from '../core/calendar.js';
import { LegguardError } from '../core/errors.js';
import type { StorePort } from '../ports/store.js';
import type { Command, CommandIo } from './command.js';
import { parseCommandArgs } from './parse-args.js';
import { TimelineFormatter } from './timeline-format.js';
import { useColor } from './use-color.js';

/** Where replays keep their SQLite files, under the working directory, one directory per scenario file. */
export const REPLAY_DATA_DIR = '.legguard/replay';

/** A fresh SQLite store for one replay: the previous run's file is removed so every run starts clean (the store makes the directory, private). */
export async function freshReplayStore(dataDir: string): Promise<StorePort> {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(join(dataDir, SQLITE_FILE + suffix), { force: true });
  return openStore({ dataDir });
}

/** Plays one scenario file, printing the timeline as it happens (or nothing, for JSON). */
export async function runReplay(
  file: string,
  dataDir: string,
  io: CommandIo,
  printTimeline: boolean,
  collect?: (line: { at: number; kind: string; text: string }) => void,
): Promise<ReplayResult> {
  const scenario = await loadScenario(file);
  const store = await freshReplayStore(dataDir);
  const fmt = new TimelineFormatter(useColor(io));
  const plain = new TimelineFormatter(false);
  try {
    return await replay({
      scenario,
      store,
      onTimeline: (e) => {
        if (collect) {
          const text = plain.format(e);
          if (text !== null) collect({ at: e.at, kind: e.kind, text });
        }
        if (!printTimeline) return;
        const line = fmt.format(e);
        if (line !== null) io.stdout.write(`${line}\n`);
      },
      onApplied: (a) => {
        collect?.({ at: a.at, kind: 'scenario', text: `${plain.time(a.at)}  ${'SCENARIO'.padEnd(9)} ${a.text}` });
        if (printTimeline) io.stdout.write(`${fmt.time(a.at)}  ${'SCENARIO'.padEnd(9)} ${a.text}\n`);
      },
    });
  } finally {
    await store.close();
  }
}

/** The end of a replay for a person: each strategy's state, what is left at the broker, the reaction times. */
export function printSummary(r: ReplayResult, io: CommandIo, dataDir: string): void {
  const rep = r.report;
  io.stdout.write(`\n${rep.scenario}\n`);
  for (const s of rep.strategies) {
    const broken = s.broken ? ` (broken: ${s.broken.cause}${s.broken.kind ? ` ${s.broken.kind}` : ''}, ${s.broken.leg})` : '';
    const holds = s.holdings.length === 0 ? 'flat' : `holds ${s.holdings.map((h) => `${h.qty > 0 ? '+' : ''}${h.qty} ${h.contract}`).join(', ')}`;
    io.stdout.write(`  ${s.id}: ${s.state}${broken}, ${holds}\n`);
  }
  const pos = rep.positions.map((p) => `${p.qty > 0 ? '+' : ''}${p.qty} ${[p.symbol, p.expiry, p.strike, p.right].filter((x) => x !== undefined).join(' ')}`);
  io.stdout.write(`  broker positions at the end: ${pos.length === 0 ? 'none' : pos.join(', ')}\n`);
  for (const d of rep.detections) {
    io.stdout.write(`  ${d.strategyId}: ${d.cause}${d.kind ? ` ${d.kind}` : ''} reported ${d.brokerAt === null ? 'at an unknown time' : formatNyTime(Date.parse(d.brokerAt))}; reaction ${d.latencyMs === null ? 'n/a' : `${d.latencyMs.toFixed(2)} ms`}\n`);
  }
  io.stdout.write(`  orders: ${rep.orders.length}, alerts: ${rep.alerts.length}; record: ${join(dataDir, SQLITE_FILE)}\n`);
}

/** `legguard replay <file.yaml> [--json] [--data-dir DIR]`. */
export function replayCommand(): Command {
  return {
    name: 'replay',
    summary: 'play a scenario file against the simulated broker and show what the guard does',
    usage: `legguard replay <file.yaml> [--json] [--html OUT.html] [--data-dir ${REPLAY_DATA_DIR}/<name>]`,
    async run(args, io) {
      const { values, positionals } = parseCommandArgs('replay', args, {
        json: { type: 'boolean' },
        html: { type: 'string' },
        'data-dir': { type: 'string' },
      });
      const file = positionals[0];
      if (file === undefined || positionals.length > 1) {
        throw new LegguardError('INVALID_INPUT', 'replay: give exactly one scenario file, e.g. legguard replay scenarios/iron-condor-put-assigned.yaml');
      }
      const json = values.json === true;
      const dataDir = resolve(io.cwd, typeof values['data-dir'] === 'string' ? values['data-dir'] : join(REPLAY_DATA_DIR, basename(file).replace(/\.[^.]+$/, '')));
      const htmlOut = typeof values.html === 'string' ? resolve(io.cwd, values.html) : null;
      const lines: { at: number; kind: string; text: string }[] = [];
      const r = await runReplay(resolve(io.cwd, file), dataDir, io, !json, htmlOut !== null ? (l) => lines.push(l) : undefined);
      if (htmlOut !== null) {
        // Loaded only here: the report inlines uPlot from node_modules.
        const { replayHtml } = await import('../web/replay-html.js');
        try {
          writeFileSync(htmlOut, replayHtml({ result: r, lines }));
        } catch (e) {
          throw new LegguardError('INVALID_INPUT', `--html: cannot write ${htmlOut}: ${e instanceof Error ? e.message : String(e)}`);
        }
        if (!json) io.stdout.write(`report: ${htmlOut}\n`);
      }
      if (json) io.stdout.write(`${JSON.stringify(r.report, null, 2)}\n`);
      else printSummary(r, io, dataDir);
      return 0;
    },
  };
}

