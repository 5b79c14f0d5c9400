#!/usr/bin/env node
// The `legguard` command. Installed (`npm install -g ./legguard-*.tgz`), it runs the compiled JavaScript in dist/.
// In a development checkout (src/ is there and tsx is installed) it runs the TypeScript through tsx's loader, so an
// edit is never shadowed by a stale dist/; LEGGUARD_FROM=dist runs the build there instead (the start-up bench, the
// pack test). `legguard --version` says which one runs.
import { existsSync, readFileSync } from 'node:fs';

// Crash-only, with a documented code: anything that escapes every handler (a bug) ends the process with 70 and one
// line, never Node's exit 1 with a stack trace; a restart reconciles and resumes.
for (const event of ['uncaughtException', 'unhandledRejection']) {
  process.on(event, (e) => {
    process.stderr.write(`legguard: internal error (${event}): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(70);
  });
}

const root = new URL('../', import.meta.url);
const compiled = new URL('dist/cli/main.js', root);
const source = new URL('src/cli/main.ts', root);

/** The tsx loader when this is a checkout that wants its source, else null. */
async function sourceLoader() {
  if (process.env.LEGGUARD_FROM === 'dist' || !existsSync(source)) return null;
  try {
    return await import('tsx/esm/api');
  } catch {
    return null; // a checkout installed without its dev dependencies: the build, if there is one
  }
}

const tsx = await sourceLoader();
const from = tsx !== null ? 'src/ through tsx (development checkout)' : 'dist/ (compiled)';
const args = process.argv.slice(2);
if (args[0] === '--version' || args[0] === '-V') {
  const { version } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
  process.stdout.write(`legguard ${version}, running ${from}\n`);
  process.exit(0);
}
if (tsx === null && !existsSync(compiled)) {
  process.stderr.write(`legguard: ${compiled.pathname} is missing: build it with \`npm run build\` (or run from a checkout with its dev dependencies)\n`);
  process.exit(70);
}
let main;
if (tsx !== null) {
  tsx.register();
  ({ main } = await import(source.href));
} else {
  ({ main } = await import(compiled.href));
}
process.exitCode = await main(args);
