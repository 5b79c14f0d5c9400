/** What a command gets: its arguments and where to write. Tests pass their own streams. */
export interface CommandIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

export interface Command {
  readonly name: string;
  /** One line for `legguard help`. */
  readonly summary: string;
  readonly usage: string;
  /** Resolves to the exit code. */
  run(args: readonly string[], io: CommandIo): Promise<number>;
}
