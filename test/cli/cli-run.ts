// Running `legguard` in tests: in this process through `main` (fast; a test may pass commands built with its own
// dependencies), or as a real child process (`node bin/legguard.mjs ...`), so that exit codes and stderr are what a
// person sees. A child can be made to obey file permissions (`unprivileged`), since root writes through read-only
// ones.
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { unprivileged } from '../support/unprivileged.js';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { CommandIo, ListedCommand } from '../../src/cli/command.js';
import { main } from '../../src/cli/main.js';

export interface Ran {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

const BIN = fileURLToPath(new URL('../../bin/legguard.mjs', import.meta.url));

export async function runLegguard(argv: readonly string[], opts: { env?: Record<string, string>; cwd: string; commands?: readonly ListedCommand[] }): Promise<Ran> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const io: CommandIo = { stdout, stderr, env: opts.env ?? {}, cwd: opts.cwd };
  const code = await main(argv, io, ...(opts.commands ? [opts.commands] : []));
  return { code, out, err };
}

/** Root ignores file permissions: with `unprivileged`, the child meets them as an ordinary user would. */

export function runLegguardProcess(argv: readonly string[], opts: { env?: Record<string, string>; cwd: string; unprivileged?: boolean }): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const [cmd, args, extra] = opts.unprivileged === true ? unprivileged(process.execPath, [BIN, ...argv]) : [process.execPath, [BIN, ...argv], {}];
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      // Only what the command needs: PATH for node, HOME for tsx's cache, and the test's own variables.
      env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), NO_COLOR: '1', ...(opts.env ?? {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...extra,
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}
