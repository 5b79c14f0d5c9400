import { accessSync, chmodSync, closeSync, constants, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { LegguardError } from '../../core/errors.js';

/**
 * The data directory and the SQLite files hold the account, the strategies and the orders: private to the user.
 * What legguard creates it creates private (directory 0700, files 0600); what a person made before is left as it is,
 * with one warning when group or others can get at it.
 */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Receives one line per loose permission found (the daemon's log at warn, a command's stderr). */
export type PermissionWarn = (message: string) => void;

const mode = (m: number): string => `0${(m & 0o777).toString(8)}`;

/**
 * Makes sure `dir` is a directory, creating it (and missing parents) with mode 0700; an existing one whose mode lets
 * group or others in gets one warning naming it. STORE_UNWRITABLE naming the problem when it cannot be.
 */
export function ensurePrivateDirectory(dir: string, where: string, warn: PermissionWarn | undefined): void {
  const existed = existsSync(dir);
  try {
    mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    // mkdir's mode passes through the umask; the directory legguard made is exactly 0700 whatever the umask.
    if (!existed) chmodSync(dir, PRIVATE_DIR_MODE);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'unknown';
    const problem =
      code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
        ? 'it cannot be created (no permission, or a read-only file system)'
        : code === 'ENOTDIR' || code === 'EEXIST'
          ? 'a file is in the way of it'
          : code === 'ENOSPC'
            ? 'the disk is full'
            : `it cannot be created (${code})`;
    throw new LegguardError('STORE_UNWRITABLE', `${where}: data directory ${dir}: ${problem}`, { dir, errno: code }, { cause: e });
  }
  const st = statSync(dir);
  if (!st.isDirectory()) {
    throw new LegguardError('STORE_UNWRITABLE', `${where}: data directory ${dir} is not a directory`, { dir });
  }
  if (existed && (st.mode & 0o077) !== 0) {
    warn?.(`data directory ${dir} is open to group/others (mode ${mode(st.mode)}); it holds the account, strategies and orders: chmod 700 ${dir}`);
  }
}

/**
 * Before SQLite opens `file`: a missing one is created empty with mode 0600 (an empty file is an empty database), so
 * the WAL and shared-memory files SQLite makes beside it later take the same mode; an existing one open to group or
 * others gets one warning. Returns true when legguard created it.
 */
export function preparePrivateFile(file: string, warn: PermissionWarn | undefined): boolean {
  if (existsSync(file)) {
    const st = statSync(file);
    if (st.isFile() && (st.mode & 0o077) !== 0) {
      warn?.(`database file ${file} is open to group/others (mode ${mode(st.mode)}); it holds the account, strategies and orders: chmod 600 ${file}`);
    }
    return false;
  }
  let fd: number;
  try {
    fd = openSync(file, 'wx', PRIVATE_FILE_MODE);
  } catch {
    // Another process made it meanwhile, or the directory cannot be written: SQLite's own open reports the latter.
    return false;
  }
  closeSync(fd);
  chmodSync(file, PRIVATE_FILE_MODE);
  return true;
}

/**
 * After SQLite has made its WAL and shared-memory files (they appear at the switch to WAL and the first write): for
 * a database legguard created, makes them (and the file) 0600, whatever the umask was.
 */
export function privatiseSqliteFiles(file: string): void {
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      if ((statSync(f).mode & 0o777) !== PRIVATE_FILE_MODE) chmodSync(f, PRIVATE_FILE_MODE);
    } catch {
      // Not there (checkpointed away, or not yet made): nothing to do.
    }
  }
}

/**
 * Why `dir` cannot serve as a data directory, or null when it can: it exists but is not a directory or not writable
 * by this user, or it is missing and cannot be created (its nearest existing parent is not a writable directory).
 * Only looks; creates nothing.
 */
export function dataDirProblem(dir: string): string | null {
  let at = dir;
  for (;;) {
    let st;
    try {
      st = statSync(at);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'unknown';
      if (code !== 'ENOENT') return at === dir ? `cannot be examined (${code})` : `does not exist and cannot be created: ${at} cannot be examined (${code})`;
      const parent = dirname(at);
      if (parent === at) return 'does not exist';
      at = parent;
      continue;
    }
    const missing = at === dir ? '' : `does not exist and cannot be created: ${at} `;
    if (!st.isDirectory()) return at === dir ? 'exists but is not a directory' : `${missing}is not a directory`;
    try {
      accessSync(at, constants.W_OK | constants.X_OK);
    } catch {
      return `${missing}is not writable by this user`;
    }
    return null;
  }
}
