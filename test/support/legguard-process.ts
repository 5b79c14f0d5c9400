// `legguard` as a child process, for tests that need the real thing: the daemon killed with -9, the sim gateway on
// its own clock. Every process started here is killed by `killAll()` (call it from `after`/`t.after`, so a failing
// test leaves nothing running); waits are bounded and fail with what the process printed.
import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';

/**
 * How long a drill waits for a process's line or exit before calling it hung. Only a bound on a wedged drill, not a
 * timing assertion: a loaded 2-core machine starting several tsx processes at once took over 20 s to print a port.
 */
export const HANG_BOUND_MS = 120_000;
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/legguard.mjs', import.meta.url));
/** The drills' own entry point: the production commands, `run` with a crash point from LEGGUARD_DRILL_CRASH_AT. */
const DRILL_BIN = fileURLToPath(new URL('./legguard-drill.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const running = new Set<LegguardProcess>();
let exitHooked = false;

/**
 * Children die with the test process: a test file the runner kills on its timeout (or Ctrl-C) must not leave a
 * gateway and a guard running on, busy, for the rest of the suite.
 */
function killChildrenOnExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  const killNow = (): void => {
    for (const p of running) p.kill();
  };
  process.once('exit', killNow);
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killNow();
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
    });
  }
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export class LegguardProcess {
  /** Lines of stdout and stderr as they came. */
  readonly stdout: string[] = [];
  /** `performance.now()` when each stdout line was read: orders lines of two processes in real time. */
  readonly stdoutAt: number[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<Exit>;
  private exit: Exit | null = null;
  private waiters: { test: (line: string, at: number) => boolean; resolve: (line: string) => void }[] = [];

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exit = { code, signal };
        running.delete(this);
        resolve(this.exit);
      });
    });
    lines(child.stdout!, (l) => {
      const at = performance.now();
      this.stdout.push(l);
      this.stdoutAt.push(at);
      this.waiters = this.waiters.filter((w) => {
        if (!w.test(l, at)) return true;
        w.resolve(l);
        return false;
      });
    });
    lines(child.stderr!, (l) => this.stderr.push(l));
  }

  /** Starts `legguard <args>` with the repository as its working directory unless `cwd` is given. */
  static start(name: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; stdin?: boolean; drillEntry?: boolean } = {}): LegguardProcess {
    const child = spawn(process.execPath, [opts.drillEntry ? DRILL_BIN : BIN, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, FORCE_COLOR: '0', ...opts.env },
      stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    const p = new LegguardProcess(name, child);
    running.add(p);
    killChildrenOnExit();
    return p;
  }

  /** Writes one line to its standard input (started with `stdin: true`): an operator's command. */
  input(line: string): void {
    const stdin = this.child.stdin;
    if (!stdin) throw new Error(`${this.name}: started without a standard input`);
    stdin.write(`${line}\n`);
  }

  /** SIGKILL now, without waiting. */
  kill(): void {
    if (!this.exit) this.child.kill('SIGKILL');
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get hasExited(): boolean {
    return this.exit !== null;
  }

  /** The first stdout line that passes `test` (given the real time it was read), waiting up to `ms`. */
  waitForLine(test: (line: string, at: number) => boolean, what: string, ms = HANG_BOUND_MS): Promise<string> {
    const i = this.stdout.findIndex((l, j) => test(l, this.stdoutAt[j]!));
    if (i >= 0) return Promise.resolve(this.stdout[i]!);
    return new Promise((resolve, reject) => {
      const done = (line: string): void => {
        clearTimeout(timer);
        resolve(line);
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`${this.name}: no line ${what} within ${ms} ms${this.exit ? ` (it exited: ${JSON.stringify(this.exit)})` : ''}\n${this.tail()}`));
      }, ms);
      this.waiters.push({ test, resolve: done });
      // A process that exits cannot print the line any more: fail at once rather than at the deadline.
      void this.exited.then((x) => {
        if (!this.waiters.some((w) => w.resolve === done)) return;
        setImmediate(() => {
          if (!this.waiters.some((w) => w.resolve === done)) return;
          this.waiters = this.waiters.filter((w) => w.resolve !== done);
          clearTimeout(timer);
          reject(new Error(`${this.name}: exited (${JSON.stringify(x)}) before a line ${what}\n${this.tail()}`));
        });
      });
    });
  }

  /** How it ended, waiting up to `ms`; null if it still runs then. */
  async exitWithin(ms: number): Promise<Exit | null> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([this.exited, new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)))]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends `signal` and waits (up to `ms`) for the process to end. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', ms = HANG_BOUND_MS): Promise<Exit> {
    if (this.exit) return this.exit;
    this.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.name}: did not exit within ${ms} ms of ${signal}\n${this.tail()}`)), ms);
    });
    try {
      return await Promise.race([this.exited, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The last lines it printed, for failure messages. */
  tail(n = 25): string {
    return [...this.stdout.slice(-n).map((l) => `  out| ${l}`), ...this.stderr.slice(-n).map((l) => `  err| ${l}`)].join('\n');
  }
}

/** Kills (SIGKILL) every process started here that still runs, and waits for them to go. */
export async function killAll(): Promise<void> {
  const all = [...running];
  for (const p of all) p.stop('SIGKILL').catch(() => undefined);
  await Promise.all(all.map((p) => p.exited));
}

function lines(stream: NodeJS.ReadableStream, on: (line: string) => void): void {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buf += chunk;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      on(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
  stream.on('end', () => {
    if (buf !== '') on(buf);
    buf = '';
  });
}
