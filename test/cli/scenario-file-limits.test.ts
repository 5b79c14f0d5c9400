import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runLegguardProcess } from './cli-run.js';

const SEED = fileURLToPath(new URL('../../scenarios/iron-condor-put-assigned.yaml', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'legguard-scenario-limits-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** `legguard replay FILE` as a person runs it: exit code and stderr as they see them. */
async function replay(name: string, text: string): Promise<{ code: number | null; err: string }> {
  writeFileSync(join(dir, name), text);
  const r = await runLegguardProcess(['replay', name], { cwd: dir });
  return { code: r.code, err: r.err };
}

describe('legguard replay: a scenario file over a limit is exit 2 and one line', () => {
  test('an alias bomb', async () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (const [prev, name] of [['a', 'b'], ['b', 'c'], ['c', 'd'], ['d', 'e'], ['e', 'f'], ['f', 'g'], ['g', 'h']] as const) {
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const r = await replay('bomb.yaml', `${levels.join('\n')}\nname: x\n`);
    assert.equal(r.code, 2, r.err);
    assert.equal(r.err, `legguard replay: ${dir}/bomb.yaml: too many YAML aliases (more than 100 expansions; an alias bomb?): write the values out instead\n`);
  });

  test('an until years away, and a disconnect of 1e300 seconds, name the field', async () => {
    const seed = readFileSync(SEED, 'utf8');
    const far = await replay('far.yaml', seed.replace(/^until: .*$/m, 'until: "9999-12-31T00:00:00Z"'));
    assert.equal(far.code, 2, far.err);
    assert.equal(far.err, `legguard replay: ${dir}/far.yaml: until: must lie in the years 1990-2100\n`);
    const long = await replay('long.yaml', seed.replace(/^events:\n/m, 'events:\n  - { at: "2026-01-27T10:00:00-05:00", disconnect: { seconds: 1e300 } }\n'));
    assert.equal(long.code, 2, long.err);
    assert.equal(long.err, `legguard replay: ${dir}/long.yaml: events[0].disconnect.seconds: must be at most 604800 (7 days)\n`);
  });
});
