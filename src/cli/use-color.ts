import type { CommandIo } from './command.js';

/** Colour on a terminal; NO_COLOR turns it off, FORCE_COLOR (not 0) on (https://no-color.org). */
export function useColor(io: CommandIo): boolean {
  if (io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '') return false;
  if (io.env.FORCE_COLOR !== undefined && io.env.FORCE_COLOR !== '0') return true;
  return io.stdout.isTTY === true;
}
