// ib-translate's rules, table by table: per message, a valid input gives the event; each bad field gives a Drop
// naming the message and the field.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OptionType, SecType, type Contract as IbContract, type Execution } from '@stoqey/ib';
import { isDrop, readContract, readExecution, readId, readOrderQuantities, readPosition, readServerTime, type Drop } from '../../src/adapters/ib/ib-translate.js';
import { option, stock } from '../../src/core/contract.js';
import { AccountId } from '../../src/core/ids.js';
import { EpochMs } from '../../src/core/quantity.js';

const acct = AccountId.unsafe('DU0000001');
const at = EpochMs.unsafe(Date.parse('2026-01-28T15:30:00Z'));
const ibPut: IbContract = { secType: SecType.OPT, symbol: 'SPY', lastTradeDateOrContractMonth: '20260220', strike: 440, right: OptionType.Put, multiplier: 100, currency: 'USD' };
const put = option({ symbol: 'SPY', right: 'P', strike: 440, expiry: '2026-02-20', multiplier: 100 });
const spy = stock('SPY');

function dropOf(x: unknown): Drop {
  assert.ok(isDrop(x), `expected a drop, got ${JSON.stringify(x)}`);
  return x;
}

describe('readContract', () => {
  test('a valid option and stock', () => {
    assert.deepEqual(readContract(ibPut, 'position'), put);
    assert.deepEqual(readContract({ secType: SecType.STK, symbol: 'spy', currency: 'USD' }, 'position'), spy);
  });
  test('instruments legguard does not guard are null, not drops', () => {
    for (const secType of [SecType.FUT, SecType.CASH, SecType.BAG, 'XYZ' as SecType]) assert.equal(readContract({ ...ibPut, secType }, 'position'), null);
  });
  const bad: [string, Partial<IbContract> | undefined, string][] = [
    ['missing', undefined, 'contract'],
    ['symbol empty', { symbol: '' }, 'contract.symbol'],
    ['symbol with a NUL', { symbol: 'SP\0Y' }, 'contract.symbol'],
    ['currency not a code', { currency: 'US Dollars' }, 'contract.currency'],
    ['expiry missing', { lastTradeDateOrContractMonth: '' }, 'contract.lastTradeDateOrContractMonth'],
    ['expiry impossible', { lastTradeDateOrContractMonth: '20260231' }, 'contract.lastTradeDateOrContractMonth'],
    ['right unknown', { right: 'X' as OptionType }, 'contract.right'],
    ['strike NaN', { strike: NaN }, 'contract.strike'],
    ['strike Infinity', { strike: Infinity }, 'contract.strike'],
    ['strike zero', { strike: 0 }, 'contract.strike'],
    ['strike negative', { strike: -440 }, 'contract.strike'],
    ['multiplier NaN', { multiplier: NaN }, 'contract.multiplier'],
    ['multiplier negative', { multiplier: -100 }, 'contract.multiplier'],
  ];
  for (const [name, patch, field] of bad) {
    test(`${name}: a drop naming ${field}`, () => {
      const d = dropOf(readContract(patch === undefined ? undefined : { ...ibPut, ...patch }, 'position'));
      assert.deepEqual([d.message, d.field], ['position', field]);
    });
  }
});

describe('readPosition', () => {
  test('valid: whole contracts, whole shares, the fraction of a share cut toward zero', () => {
    const p = readPosition({ account: acct, contract: put, pos: -2, avgCost: 125, at });
    assert.ok(!isDrop(p));
    assert.deepEqual([p.kind, p.qty, p.avgCost, p.contract], ['position', -2, 125, put]);
    const s = readPosition({ account: acct, contract: spy, pos: -100.7, avgCost: 'abc', at });
    assert.ok(!isDrop(s));
    assert.deepEqual([s.qty, s.avgCost], [-100, null]);
  });
  for (const [pos, why] of [
    [NaN, /finite/],
    [Infinity, /finite/],
    [-Infinity, /finite/],
    ['nan', /finite/],
    ['abc', /finite/],
    ['1e309', /finite/],
    ['', /finite/],
    [undefined, /finite/],
    [1e12, /out of range/],
    [-1.5, /whole number of contracts/],
  ] as const) {
    test(`quantity ${String(pos)}: a drop naming position.pos`, () => {
      const d = dropOf(readPosition({ account: acct, contract: put, pos, avgCost: 1, at }));
      assert.deepEqual([d.message, d.field], ['position', 'pos']);
      assert.match(d.why, why);
    });
  }
});

describe('readExecution', () => {
  const x: Execution = { execId: '0000e1f2.6a.01.01', time: '20260128 10:31:00 US/Eastern', acctNumber: 'DU0000001', side: 'SLD', shares: 2, price: 1.25, orderId: 7, orderRef: 'lg/ic/inc-1/g0/1', liquidation: 0 };
  test('valid: an own order\'s execution', () => {
    const e = readExecution({ account: acct, contract: put, x, own: true, at });
    assert.ok(!isDrop(e));
    assert.deepEqual([e.kind, e.side, e.qty, e.price, e.orderId, e.tsEvent], ['execution', 'SELL', 2, 1.25, '7', Date.parse('2026-01-28T15:31:00Z')]);
  });
  test('valid: not own, the order id is not taken', () => {
    const e = readExecution({ account: acct, contract: put, x: { ...x, side: 'BOT' }, own: false, at });
    assert.ok(!isDrop(e));
    assert.deepEqual([e.side, e.orderId], ['BUY', null]);
  });
  const bad: [string, Partial<Execution> | null, string][] = [
    ['missing', null, 'execution'],
    ['execId empty', { execId: '' }, 'execId'],
    ['shares NaN', { shares: NaN }, 'shares'],
    ['shares Infinity', { shares: Infinity }, 'shares'],
    ['shares fractional', { shares: 1.5 }, 'shares'],
    ['shares zero', { shares: 0 }, 'shares'],
    ['shares negative', { shares: -2 }, 'shares'],
    ['shares huge', { shares: 1e15 }, 'shares'],
    ['price NaN', { price: NaN }, 'price'],
    ['price Infinity', { price: Infinity }, 'price'],
    ['price negative', { price: -1 }, 'price'],
    ['side unknown', { side: 'XYZ' }, 'side'],
  ];
  for (const [name, patch, field] of bad) {
    test(`${name}: a drop naming execDetails.${field}`, () => {
      const d = dropOf(readExecution({ account: acct, contract: put, x: patch === null ? undefined : { ...x, ...patch }, own: true, at }));
      assert.deepEqual([d.message, d.field], ['execDetails', field]);
    });
  }
});

describe('order status, ids, server time', () => {
  test('order quantities: valid, and each bad field named', () => {
    assert.deepEqual(readOrderQuantities(1, 2), { filled: 1, remaining: 2 });
    assert.deepEqual(readOrderQuantities(undefined, undefined), { filled: 0, remaining: 0 });
    for (const [f, r, field] of [[NaN, 0, 'filled'], [-1, 0, 'filled'], [Infinity, 0, 'filled'], [0, NaN, 'remaining'], [0, -3, 'remaining'], [0, 1e12, 'remaining']] as const) {
      const d = dropOf(readOrderQuantities(f, r));
      assert.deepEqual([d.message, d.field], ['orderStatus', field]);
    }
  });
  test('ids: positive safe integers only', () => {
    assert.equal(readId(7, 'nextValidId', 'orderId'), 7);
    for (const v of [0, -1, 1.5, NaN, Infinity, '7', 2 ** 60]) assert.deepEqual(dropOf(readId(v, 'nextValidId', 'orderId')).field, 'orderId');
  });
  test('server time: epoch seconds in range', () => {
    assert.equal(readServerTime(1769614200), 1769614200000);
    for (const v of [0, -5, NaN, 1e12, 1.5, '1769614200']) assert.deepEqual([dropOf(readServerTime(v)).message, dropOf(readServerTime(v)).field], ['currentTime', 'time']);
  });
});
