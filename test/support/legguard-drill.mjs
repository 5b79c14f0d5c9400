#!/usr/bin/env node
// `legguard` for crash drills only: the production command list, with `run` given a crash point from
// LEGGUARD_DRILL_CRASH_AT (`<point>[:<n>]`). bin/legguard.mjs never reads it: no environment variable can kill a
// production guard in the middle of an emergency close.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../../src/cli/main.ts');
const { commands } = await import('../../src/cli/commands.ts');
const { runCommand } = await import('../../src/cli/run-command.ts');
const { crashPointFrom } = await import('./crash-point.ts');
const crashPoint = crashPointFrom(process.env.LEGGUARD_DRILL_CRASH_AT, process.env.LEGGUARD_DRILL_HOLD_UNTIL);
const list = commands().map((c) => (c.name === 'run' ? runCommand(crashPoint ? { crashPoint } : {}) : c));
process.exitCode = await main(process.argv.slice(2), undefined, list);
