// The domain core depends on nothing outside itself: every file under src/core imports only from src/core, src/lib
// and npm packages, never from ports, adapters, the engine, the app or the CLI (which all import core).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const SRC = resolve(import.meta.dirname, '..', '..', 'src');
const CORE = join(SRC, 'core');
const ALLOWED_DIRS = [CORE, join(SRC, 'lib')];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return sourceFiles(p);
    return /\.(ts|mts|cts|js|mjs)$/.test(d.name) ? [p] : [];
  });
}

/** Every module specifier in a file: static imports, `export ... from`, side-effect imports, dynamic `import()`. */
function specifiers(text: string): string[] {
  const out: string[] = [];
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of text.matchAll(re)) out.push(m[1]!);
  return out;
}

/** What is wrong with one specifier of a core file, or null: relative ones must stay in core or lib. */
function problem(file: string, spec: string): string | null {
  const isTest = /\.test\.[cm]?[jt]s$/.test(file);
  if (spec.startsWith('.') || spec.startsWith('/')) {
    const target = resolve(dirname(file), spec);
    if (ALLOWED_DIRS.some((d) => target === d || target.startsWith(d + sep))) return null;
    return `imports ${spec} (${relative(SRC, target)}), outside src/core and src/lib`;
  }
  // The core does no I/O: Node's own modules only in its test files.
  if (spec.startsWith('node:')) return isTest ? null : `imports ${spec}; the core is pure (no Node modules outside tests)`;
  return null; // an npm package
}

describe('core imports', () => {
  test('every file under src/core imports only from core, lib and npm packages', () => {
    const files = sourceFiles(CORE);
    assert.ok(files.length >= 20, `found the core's files (${files.length})`);
    let seen = 0;
    const problems: string[] = [];
    for (const f of files) {
      for (const s of specifiers(readFileSync(f, 'utf8'))) {
        seen++;
        const p = problem(f, s);
        if (p) problems.push(`${relative(SRC, f)}: ${p}`);
      }
    }
    assert.ok(seen >= files.length, `read the imports (${seen} in ${files.length} files)`);
    assert.deepEqual(problems, []);
  });

  test('the check sees every way out of the core', () => {
    const f = join(CORE, 'reconcile.ts');
    const text = [
      "import type { BrokerSnapshot } from '../ports/broker.js';",
      "import { GuardEngine } from '../engine/guard-engine.js';",
      "export { SimBroker } from '../adapters/sim/sim-broker.js';",
      "import '../app/config.js';",
      "const m = await import('../cli/main.js');",
      "import {\n  a,\n  b,\n} from '../adapters/ib/ib-broker.js';",
      "import { readFileSync } from 'node:fs';",
      "import { contractKey } from './contract.js';",
      "import { z } from 'zod';",
      "import { pace } from '../lib/priority-pacer.js';",
    ].join('\n');
    const found = specifiers(text).map((s) => [s, problem(f, s) !== null]);
    assert.deepEqual(found.sort(), [
      ['../adapters/ib/ib-broker.js', true],
      ['../adapters/sim/sim-broker.js', true],
      ['../app/config.js', true],
      ['../cli/main.js', true],
      ['../engine/guard-engine.js', true],
      ['../lib/priority-pacer.js', false],
      ['../ports/broker.js', true],
      ['./contract.js', false],
      ['node:fs', true],
      ['zod', false],
    ]);
    assert.equal(problem(join(CORE, 'calendar.test.ts'), 'node:test'), null, 'a core test may use node:test');
    assert.notEqual(problem(join(CORE, 'rules', 'x.ts'), '../../ports/store.js'), null, 'from a subfolder too');
    assert.equal(problem(join(CORE, 'rules', 'x.ts'), '../book.js'), null);
  });
});
