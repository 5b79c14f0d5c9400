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

/** A command known by name, its module loaded when it is asked for (`commands.ts`). */
export interface CommandEntry {
  readonly name: string;
  load(): Promise<Command>;
}

/** What `main` takes: commands ready to run (tests build them with their own dependencies) or entries to load. */
export type ListedCommand = Command | CommandEntry;

export function loadCommand(c: ListedCommand): Promise<Command> {
  return 'run' in c ? Promise.resolve(c) : c.load();
}
