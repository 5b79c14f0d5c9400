// The YAML reader's two paths read a file the same way: the fast one (js-yaml, core schema, no aliases) and the full
// one (the `yaml` library, which also reads aliases up to a limit and states errors with line and column). What a
// person wrote must not mean one thing on a small file and another on a large one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { dump } from 'js-yaml';
import { parseDocument, stringify } from 'yaml';
import { parseYamlMapping } from '../../src/lib/yaml-file.js';

/** What the full reader alone makes of `text`: the reference. */
function reference(text: string): unknown {
  return parseDocument(text, { uniqueKeys: true }).toJS({ maxAliasCount: 100 });
}

const read = (text: string): unknown => parseYamlMapping(text, 'x.yaml', 'CONFIG_INVALID', 'a mapping');

// Scalars a person types and YAML schemas disagree on: booleans and nulls of YAML 1.1, numbers in odd forms, dates.
const tricky = fc.constantFrom(
  'yes', 'no', 'on', 'off', 'y', 'n', 'Yes', 'TRUE', 'true', 'False', 'null', 'Null', '~', '', ' ', '0x1F', '0o17', '017', '1e3', '1_000',
  '.inf', '-.Inf', '.nan', '2026-01-05', '2026-01-05T15:00:00Z', '12:30', '15:30:00', '+1', '-0', '0.', '.5', '1.0', 'DU1234567',
  '#not a comment', 'a: b', '- x', '"quoted"', "it's", '*alias', '&anchor', '!tag', '<<', '__proto__', 'constructor', 'é', '\t', 'line\nbreak',
);
const scalar = fc.oneof(tricky, fc.string(), fc.integer(), fc.double({ noNaN: true }), fc.boolean(), fc.constant(null));
const key = fc.oneof(tricky, fc.string({ minLength: 1, maxLength: 12 }));
const value = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small' }, scalar, fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(key, tie('v'), { maxKeys: 4 })),
})).v;
const mapping = fc.dictionary(key, value, { minKeys: 1, maxKeys: 6 });

test('any mapping written out by either YAML writer reads the same through legguard as through the full reader', () => {
  fc.assert(
    fc.property(mapping, fc.constantFrom('yaml', 'yaml-flow', 'js-yaml'), (m, writer) => {
      const text = writer === 'js-yaml' ? dump(m) : stringify(m, writer === 'yaml-flow' ? { collectionStyle: 'flow' } : {});
      assert.deepStrictEqual(read(text), reference(text), text);
    }),
    { numRuns: 400 },
  );
});

test('hand-written files with the forms people type read the same through both paths', () => {
  const files = [
    'account: DU1234567\nstrategies:\n  - id: ic\n    legs:\n      - { symbol: SPY, right: P, strike: 440, expiry: 2026-01-16, qty: -1 }\n',
    'guard:\n  onAssignment: close   # the default\n  timeExitDte: ~\nalerts:\n  channels: []\n',
    'a: "2026-01-05"\nb: 2026-01-05\nc: 15:30\nd: 0x10\ne: 010\nf: 1e3\ng: yes\nh: .inf\n',
    'text: |\n  two\n  lines\nfolded: >\n  one\n  line\n',
    '? complex\n: value\n"quoted key": 1\n\'single\': 2\n',
    '__proto__: {polluted: true}\nsafe: 1\n',
    '%YAML 1.2\n---\na: 1\n',
    'a: !!str 12\nb: !!int "7"\n',
  ];
  for (const text of files) assert.deepStrictEqual(read(text), reference(text), text);
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined, 'no prototype was polluted');
});

test('aliases, unknown tags and errors go through the full reader: its alias limit and its line and column', () => {
  assert.deepStrictEqual(read('base: &b {x: 1}\nuse: *b\n'), { base: { x: 1 }, use: { x: 1 } });
  const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (const [prev, name] of [['a', 'b'], ['b', 'c'], ['c', 'd'], ['d', 'e'], ['e', 'f'], ['f', 'g'], ['g', 'h'], ['h', 'i']] as const) {
    levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
  }
  const bomb = levels.join('\n');
  assert.throws(() => read(bomb), /too many YAML aliases/);
  assert.throws(() => read('a: 1\n  b: 2\n'), /not valid YAML at line \d+, column \d+/);
  assert.throws(() => read('a: 1\na: 2\n'), /not valid YAML at line 2/);
  assert.throws(() => read('- 1\n- 2\n'), /x\.yaml: a mapping/);
  assert.deepStrictEqual(read('a: !custom 1\n'), reference('a: !custom 1\n'), 'an unknown tag: as the full reader reads it (it warns and keeps the value)');
});
