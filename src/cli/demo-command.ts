import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allClosedAndFlat } from '../app/replay.js';
import { LegguardError } from '../core/errors.js';
import type { Command } from './command.js';
import { parseCommandArgs } from './parse-args.js';
import { printSummary, REPLAY_DATA_DIR, runReplay } from './replay-command.js';

/**
 * The seed analysis' three scenarios, shipped with legguard (its ex-dividend one with that look-ahead rule on `alert`:
 * the seed is about what happens when the assignment comes), and a fourth: the same ex-dividend position under the
 * default policy, closed the day before with the numbers that decided it.
 */
export const DEMO_SCENARIOS = [
  'iron-condor-put-assigned.yaml',
  'short-call-assigned-ex-dividend.yaml',
  'assignment-before-time-exit.yaml',
  'short-call-closed-before-ex-dividend.yaml',
] as const;

export const SCENARIO_DIR = fileURLToPath(new URL('../../scenarios/', import.meta.url));

/**
 * `legguard demo`: plays the three seed scenarios and the ex-dividend close the day before on the simulated broker, each with its own SQLite record, and
 * exits non-zero unless every strategy ends CLOSED and flat.
 */
export function demoCommand(): Command {
  return {
    name: 'demo',
    summary: "play the seed analysis' three scenarios (assignment overnight, ex-dividend call, before the time exit) and the ex-dividend call closed the day before",
    usage: `legguard demo [--quiet] [--html DIR] [--data-dir ${REPLAY_DATA_DIR}]`,
    async run(args, io) {
      const { values } = parseCommandArgs('demo', args, { quiet: { type: 'boolean' }, html: { type: 'string' }, 'data-dir': { type: 'string' } });
      const htmlDir = typeof values.html === 'string' ? resolve(io.cwd, values.html) : null;
      // Loaded only with --html: the report inlines uPlot from node_modules.
      const html = htmlDir !== null ? await import('../web/replay-html.js') : null;
      if (htmlDir !== null) {
        try {
          mkdirSync(htmlDir, { recursive: true });
        } catch (e) {
          throw new LegguardError('INVALID_INPUT', `--html: cannot create ${htmlDir}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      const root = typeof values['data-dir'] === 'string' ? values['data-dir'] : join(io.cwd, REPLAY_DATA_DIR);
      const failures: string[] = [];
      for (const [i, name] of DEMO_SCENARIOS.entries()) {
        const dataDir = join(root, name.replace(/\.yaml$/, ''));
        io.stdout.write(`${i > 0 ? '\n' : ''}=== ${i + 1}/${DEMO_SCENARIOS.length} ${name}\n`);
        const lines: { at: number; kind: string; text: string }[] = [];
        const r = await runReplay(join(SCENARIO_DIR, name), dataDir, io, values.quiet !== true, html !== null ? (l) => lines.push(l) : undefined);
        printSummary(r, io, dataDir);
        if (html !== null && htmlDir !== null) {
          const out = join(htmlDir, name.replace(/\.yaml$/, '.html'));
          writeFileSync(out, html.replayHtml({ result: r, lines }));
          io.stdout.write(`  report: ${out}\n`);
        }
        const check = allClosedAndFlat(r.report);
        if (!check.ok) failures.push(`${name}: ${check.problems.join('; ')}`);
      }
      if (failures.length > 0) {
        io.stderr.write(`\ndemo: not every strategy ended CLOSED and flat:\n${failures.map((f) => `  ${f}`).join('\n')}\n`);
        return 1;
      }
      io.stdout.write('\nEvery seed scenario ended with its strategy CLOSED and flat.\n');
      return 0;
    },
  };
}
