import { LegguardError } from '../core/errors.js';
import { loadCommand, type Command, type CommandIo, type ListedCommand } from './command.js';
import { commands } from './commands.js';

async function help(io: CommandIo, entries: readonly ListedCommand[]): Promise<void> {
  const list: readonly Command[] = await Promise.all(entries.map(loadCommand));
  io.stdout.write('legguard: guards multi-leg options strategies at Interactive Brokers against assignment\n\n');
  io.stdout.write('usage: legguard <command> [options]\n\n');
  const width = Math.max(...list.map((c) => c.name.length));
  for (const c of list) io.stdout.write(`  ${c.name.padEnd(width)}  ${c.summary}\n`);
  io.stdout.write('\n`legguard <command> --help` shows a command\'s options.\n');
}

/**
 * Runs one command; returns the exit code. Errors with a code become that code's exit status, with one clear line.
 * `list` is the command list (tests pass commands built with their own dependencies).
 */
export async function main(argv: readonly string[], io: CommandIo = defaultIo(), list: readonly ListedCommand[] = commands()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    await help(io, list);
    return name === undefined ? 2 : 0;
  }
  const entry = list.find((c) => c.name === name);
  if (!entry) {
    io.stderr.write(`legguard: unknown command '${name}'. Commands: ${list.map((c) => c.name).join(', ')}\n`);
    return 2;
  }
  const cmd = await loadCommand(entry);
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(`usage: ${cmd.usage}\n\n${cmd.summary}\n`);
    return 0;
  }
  try {
    return await cmd.run(rest, io);
  } catch (e) {
    if (LegguardError.is(e)) {
      io.stderr.write(`legguard ${name}: ${e.message}\n`);
      return e.exitCode;
    }
    io.stderr.write(`legguard ${name}: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 70;
  }
}

function defaultIo(): CommandIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}
