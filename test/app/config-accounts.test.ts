// `accounts:` (issue 16): several accounts of one TWS/Gateway login in one config, as an alternative to `account:`.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkConfig, parseConfig } from '../../src/app/config.js';
import { narrowToAccount } from '../../src/cli/config-source.js';
import { LegguardError } from '../../src/core/errors.js';
import { AccountId } from '../../src/core/ids.js';

const NOW = Date.parse('2026-11-24T12:00:00Z');
const LEGS = `
      - { symbol: SPY, right: P, strike: 440, expiry: "2027-02-19", qty: -2 }
      - { symbol: SPY, right: P, strike: 430, expiry: "2027-02-19", qty: 2 }`;

function problems(text: string): readonly string[] {
  const r = checkConfig(text, 'legguard.yaml', {}, NOW);
  assert.equal(r.config, null, 'expected the config to be refused');
  return r.problems;
}

describe('config accounts:', () => {
  test('one account: as before, a list of one with the broker client id, the top-level strategies and alerts', () => {
    const c = parseConfig(`account: DU0000001\nbroker: { clientId: 21 }\nstrategies:\n  - id: ps\n    legs:${LEGS}\n`, 'legguard.yaml', {}, NOW);
    assert.equal(c.account, 'DU0000001');
    assert.equal(c.accounts.length, 1);
    assert.equal(c.accounts[0]!.account, 'DU0000001');
    assert.equal(c.accounts[0]!.clientId, 21);
    assert.deepEqual(c.accounts[0]!.strategies, c.strategies);
    assert.equal(c.accounts[0]!.alerts, c.alerts);
    assert.deepEqual(c.strategies.map((s) => [s.id, s.account]), [['ps', 'DU0000001']]);
  });

  test('several accounts: client ids default to broker.clientId + index, strategies and alerts per account', () => {
    const c = parseConfig(
      [
        'broker: { clientId: 30 }',
        'alerts: { channels: [{ type: console, name: shared }] }',
        'accounts:',
        '  - account: DU0000001',
        '    strategies:',
        `      - id: ps\n        legs:${LEGS.replaceAll('\n      ', '\n          ')}`,
        '  - account: DU0000002',
        '    clientId: 40',
        '    alerts: { channels: [{ type: webhook, name: desk-b, url: "http://127.0.0.1:9/b" }] }',
        '    strategies:',
        `      - id: ps\n        legs:${LEGS.replaceAll('\n      ', '\n          ')}`,
        '  - account: DU0000003',
      ].join('\n'),
      'legguard.yaml',
      {},
      NOW,
    );
    assert.deepEqual(
      c.accounts.map((a) => [a.account, a.clientId, a.strategies.map((s) => `${s.id}@${s.account}`), a.alerts.channels.map((ch) => ch.name)]),
      [
        ['DU0000001', 30, ['ps@DU0000001'], ['shared']],
        ['DU0000002', 40, ['ps@DU0000002'], ['desk-b']],
        ['DU0000003', 32, [], ['shared']],
      ],
    );
    // Commands that act on one account read the first unless --account names another.
    assert.equal(c.account, 'DU0000001');
    const b = narrowToAccount(c, AccountId.unsafe('DU0000002'));
    assert.deepEqual([b.account, b.broker.clientId, b.accounts.length, b.strategies.map((s) => s.account), b.alerts.channels.map((ch) => ch.name)], [
      'DU0000002',
      40,
      1,
      ['DU0000002'],
      ['desk-b'],
    ]);
    assert.throws(() => narrowToAccount(c, AccountId.unsafe('DU0000009')), (e: unknown) => LegguardError.is(e, 'INVALID_INPUT') && /lists DU0000001, DU0000002, DU0000003, not DU0000009/.test(e.message));
  });

  test('neither account: nor accounts:, or both: refused naming the keys', () => {
    assert.deepEqual(problems('dataDir: data\n'), ['account: missing: name the IB account to guard (account: DU1234567), or list several under accounts:']);
    assert.deepEqual(problems('account: DU0000001\naccounts: [{ account: DU0000002 }]\n'), ['accounts: give either account: (one account) or accounts: (several), not both']);
    assert.throws(
      () => parseConfig('dataDir: data\n', 'legguard.yaml', {}, NOW),
      (e: unknown) => LegguardError.is(e, 'CONFIG_INVALID') && e.message.startsWith('legguard.yaml: account: missing'),
    );
  });

  test('an account listed twice, clashing client ids, top-level strategies with accounts: refused', () => {
    assert.deepEqual(problems('accounts: [{ account: DU0000001 }, { account: DU0000002 }, { account: DU0000001 }]\n'), [
      'accounts[2].account: DU0000001 is listed twice (also accounts[0]); one guard per account',
    ]);
    assert.deepEqual(problems('broker: { clientId: 17 }\naccounts: [{ account: DU0000001 }, { account: DU0000002, clientId: 17 }]\n'), [
      "accounts[1].clientId: 17 is also accounts[0]'s client id; each account needs its own connection to TWS, and TWS refuses a second one with the same client id",
    ]);
    assert.deepEqual(problems('accounts: [{ account: DU0000001, clientId: 18 }, { account: DU0000002 }]\n'), [
      "accounts[1].clientId: 18 is also accounts[0]'s client id (broker.clientId 17 + 1); each account needs its own connection to TWS, and TWS refuses a second one with the same client id",
    ]);
    assert.deepEqual(problems(`accounts: [{ account: DU0000001 }]\nstrategies:\n  - id: ps\n    legs:${LEGS}\n`), [
      "strategies: with accounts:, list each account's strategies under its entry (accounts[n].strategies)",
    ]);
  });

  test('bad entries are named by their index and key', () => {
    assert.deepEqual(problems('accounts: []\n'), ['accounts: must list at least one account']);
    assert.deepEqual(problems('accounts: [{ account: "DU 1" }, { acount: DU0000002 }, { account: DU0000003, clientId: -1 }]\n'), [
      'accounts[0].account: must be an IB account id like DU1234567',
      'accounts[1].account: Invalid input: expected string, received undefined',
      'accounts[1]: Unrecognized key: "acount"',
      'accounts[2].clientId: Too small: expected number to be >=0',
    ]);
    const ch = problems('accounts: [{ account: DU0000001, alerts: { channels: [{ type: pager, name: p }] } }]\n');
    assert.equal(ch.length, 1);
    assert.match(ch[0]!, /^accounts\[0\]\.alerts\.channels\[0\]: .*unknown channel type "pager"/);
  });

  test('a strategy id used twice within one account is refused; the same id in two accounts is not', () => {
    const strat = `        - id: ps\n          legs:${LEGS.replaceAll('\n      ', '\n            ')}`;
    assert.deepEqual(problems(`accounts:\n  - account: DU0000001\n    strategies:\n${strat}\n${strat}\n`), ['accounts[0].strategies[1].id: "ps" is used twice']);
    const c = parseConfig(`accounts:\n  - account: DU0000001\n    strategies:\n${strat}\n  - account: DU0000002\n    strategies:\n${strat}\n`, 'legguard.yaml', {}, NOW);
    assert.deepEqual(c.accounts.map((a) => a.strategies.length), [1, 1]);
  });
});
