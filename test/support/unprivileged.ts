import { existsSync } from 'node:fs';

/**
 * How to run a child that must obey file permissions (a read-only data directory) while still reading this checkout.
 * Root ignores permission bits, so a test running as root must give that up: it keeps uid 0 (so it can read a
 * checkout in a private 0700 directory, as CI's fresh clone is) but drops the capabilities that override file
 * permissions (`setpriv --bounding-set`), so a 0555 directory or a 0444 file stops it like anyone else. Without
 * setpriv it falls back to user `nobody`, which needs the checkout to be readable by others. Not root: as is.
 *
 * @example
 *   const [cmd, args, extra] = unprivileged(process.execPath, ['--import', 'tsx', child]);
 *   spawnSync(cmd, args, { ...extra, encoding: 'utf8' });
 */
export function unprivileged(cmd: string, args: readonly string[]): [string, string[], { uid?: number; gid?: number }] {
  if (process.getuid?.() !== 0) return [cmd, [...args], {}];
  for (const setpriv of ['/usr/bin/setpriv', '/bin/setpriv']) {
    if (existsSync(setpriv)) {
      return [setpriv, ['--bounding-set=-dac_override,-dac_read_search,-fowner', '--', cmd, ...args], {}];
    }
  }
  return [cmd, [...args], { uid: 65534, gid: 65534 }];
}
