import { parseArgs, type ParseArgsConfig } from 'node:util';
import { LegguardError } from '../core/errors.js';

/** node's parseArgs, with its errors turned into INVALID_INPUT (exit 2) naming the command. Options given `multiple: true` come back as arrays. */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(
  command: string,
  args: readonly string[],
  options: T,
): { values: Record<string, string | boolean | (string | boolean)[] | undefined>; positionals: string[] } {
  try {
    const r = parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
    return { values: r.values, positionals: r.positionals };
  } catch (e) {
    throw new LegguardError('INVALID_INPUT', `${command}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
