#!/usr/bin/env node
// The `legguard` command. TypeScript runs through tsx's loader, so a checkout works right after `npm ci` with no
// build step and no stale output.
import { register } from 'tsx/esm/api';

// Crash-only, with a documented code: anything that escapes every handler (a bug) ends the process with 70 and one
// line, never Node's exit 1 with a stack trace; a restart reconciles and resumes.
for (const event of ['uncaughtException', 'unhandledRejection']) {
  process.on(event, (e) => {
    process.stderr.write(`legguard: internal error (${event}): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(70);
  });
}

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
