// A worker thread that reads and validates one large config file (see `loadConfig`): the YAML document of 10,000
// strategies takes hundreds of MB while it is parsed; here that heap goes away with the thread, and the guard's own
// heap never holds it. Posts `{ config }`, `{ error: { code, message, details } }` (a LegguardError) or `{ internal }`.
import { parentPort, workerData } from 'node:worker_threads';
import { LegguardError } from '../core/errors.js';
import { readUserFile } from '../lib/yaml-file.js';
import { parseConfig } from './config.js';

const { file, env, now } = workerData as { file: string; env: NodeJS.ProcessEnv; now: number };
try {
  const text = await readUserFile(file, 'CONFIG_INVALID', 'config file');
  parentPort!.postMessage({ config: parseConfig(text, file, env, now) });
} catch (e) {
  if (LegguardError.is(e)) parentPort!.postMessage({ error: { code: e.code, message: e.message, details: e.details } });
  else parentPort!.postMessage({ internal: e instanceof Error ? (e.stack ?? e.message) : String(e) });
}
