#!/usr/bin/env node
// The `legguard` command. TypeScript runs through tsx's loader, so a checkout works right after `npm ci` with no
// build step and no stale output.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
