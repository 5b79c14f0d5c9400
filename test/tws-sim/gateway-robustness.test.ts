import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventName, OptionType, OrderAction, OrderType, SecType, type Contract as IbContract, type Order } from '@stoqey/ib';
import { option } from '../../src/core/contract.js';
import { encodeHandshake } from '../../src/adapters/tws-sim/frame-codec.js';
import { MemoryBroker, t0 } from './memory-broker.js';
import { OffsetClock, RawClient, startGateway, TestClient, type RunningGateway } from './harness.js';

/**
 * Bad input on the wire: a clear error, the connection handled (answered, or closed when the stream cannot be
 * trusted any more), and nothing crashes: the gateway keeps serving, and a real client keeps working.
 */
const ACCT = 'DU0000001';
const put440 = option({ symbol: 'SPY', right: 'P', strike: 440, expiry: '2026-01-30' });

const spyPut: IbContract = {
  symbol: 'SPY',
  secType: SecType.OPT,
  lastTradeDateOrContractMonth: '20260130',
  strike: 440,
  right: OptionType.Put,
  multiplier: 100,
  exchange: 'SMART',
  currency: 'USD',
};

describe('gateway: malformed input and misbehaving clients', () => {
  let broker: MemoryBroker;
  let rg: RunningGateway;

  beforeEach(async () => {
    broker = new MemoryBroker(ACCT, new OffsetClock(t0));
    broker.setUnderlying('SPY', 445);
    broker.setQuote(put440, 1.2, 1.3, 1.25, 445);
    rg = await startGateway(broker.backend());
  });

  afterEach(async () => {
    await rg.gw.stop();
  });

  /** After each abuse the gateway still serves a well-behaved client end to end. */
  async function stillServes(): Promise<void> {
    const c = await TestClient.connect(rg.port, 99);
    c.ib.reqCurrentTime();
    await c.waitFor(EventName.currentTime);
    assert.deepEqual(c.decodeFailures(), []);
    c.close();
  }

  test('a client that does not speak the TWS API (an HTTP request): closed, with an error naming what it sent', async () => {
    const raw = await RawClient.connect(rg.port);
    raw.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await raw.closed;
    assert.match(rg.protocolErrors[0]!.message, /not a TWS API client: the connection must open with "API\\0", got "GET \/ HTTP/);
    await stillServes();
  });

  test('a client asking for versions outside the range: closed, and the error names both ranges', async () => {
    for (const [min, max] of [[100, 150], [194, 200]] as const) {
      const raw = await RawClient.connect(rg.port);
      raw.socket.write(encodeHandshake(min, max));
      await raw.closed;
      assert.equal(raw.frames.length, 0, 'no version reply');
    }
    assert.match(rg.protocolErrors[0]!.message, /asked for API versions 100\.\.150; this gateway speaks server version 193 only/);
    assert.match(rg.protocolErrors[1]!.message, /asked for API versions 194\.\.200/);
    await stillServes();
  });

  test('a malformed handshake (empty range): closed with a clear error', async () => {
    const raw = await RawClient.connect(rg.port);
    raw.socket.write(encodeHandshake(193, 100).subarray(0, 8));
    raw.socket.write(Buffer.from('v193..100', 'latin1'));
    await raw.closed;
    assert.match(rg.protocolErrors[0]!.message, /malformed handshake/);
  });

  test('a frame whose last field is not NUL-terminated: error 320, the connection goes on', async () => {
    const raw = await RawClient.started(rg.port, 1);
    const body = Buffer.from('49\x001', 'latin1'); // REQ_CURRENT_TIME without its final NUL
    const len = Buffer.alloc(4);
    len.writeUInt32BE(body.length);
    raw.socket.write(Buffer.concat([len, body]));
    const err = await raw.waitFor((f) => f[0] === '4' && f[3] === '320');
    assert.match(err[4]!, /Error reading request: malformed message: the last field is not NUL-terminated/);
    raw.send(['49', '1']);
    await raw.waitFor((f) => f[0] === '49');
    raw.close();
  });

  test('an unknown message id: error 320 naming it; an unimplemented one: 321 naming it; the connection goes on', async () => {
    const raw = await RawClient.started(rg.port, 1);
    raw.send(['999', '1', 'x']);
    raw.send(['20', '1', '5']);
    await raw.waitFor((f) => f[0] === '4' && f[3] === '321');
    const [unknown, unimplemented] = raw.errors().filter((e) => e[1] === 320 || e[1] === 321);
    assert.match(unknown![2], /unknown message id 999/);
    assert.match(unimplemented![2], /REQ_HISTORICAL_DATA \(message id 20\) is not supported/);
    raw.send(['49', '1']);
    await raw.waitFor((f) => f[0] === '49');
    raw.close();
  });

  test('a field of the wrong type or a short message: error 320 on the request id, naming message and field', async () => {
    const raw = await RawClient.started(rg.port, 1);
    raw.send(['9', '8', '77', 'abc']); // REQ_CONTRACT_DATA: conId must be a number
    raw.send(['7', '3', '78']); // REQ_EXECUTIONS cut short
    await raw.waitFor((f) => f[0] === '4' && f[2] === '78');
    const e77 = raw.errors().find((e) => e[0] === 77)!;
    assert.equal(e77[1], 320);
    assert.match(e77[2], /REQ_CONTRACT_DATA: field 3 \(conId\) must be a whole number; got "abc"/);
    assert.match(raw.errors().find((e) => e[0] === 78)![2], /REQ_EXECUTIONS: field 3 \(filter.clientId\) is missing/);
    raw.close();
  });

  test('a truncated frame then a close: reported, nothing crashes', async () => {
    const raw = await RawClient.started(rg.port, 1);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(100);
    raw.socket.write(Buffer.concat([len, Buffer.from('49\x001\x00', 'latin1')]));
    raw.socket.end();
    await raw.closed;
    await new Promise((r) => setTimeout(r, 20));
    assert.match(rg.protocolErrors.at(-1)!.message, /closed the connection mid-frame: 9 bytes of 104 bytes/);
    await stillServes();
  });

  test('an impossible frame length: the stream cannot be trusted, so it is closed', async () => {
    const raw = await RawClient.started(rg.port, 1);
    raw.socket.write(Buffer.from([0x7f, 0xff, 0xff, 0xff, 0x31]));
    await raw.closed;
    assert.match(rg.protocolErrors.at(-1)!.message, /frame length 2147483647 exceeds the 16777215-byte limit/);
    await stillServes();
  });

  test('a request before START_API: 504; START_API twice: 501', async () => {
    const raw = await RawClient.connect(rg.port);
    raw.socket.write(encodeHandshake(100, 193));
    await raw.waitFor((f) => f[0] === '193');
    raw.send(['61', '1']);
    const e = await raw.waitFor((f) => f[0] === '4');
    assert.equal(e[3], '504');
    raw.send(['71', '2', '3', '']);
    await raw.waitFor((f) => f[0] === '9');
    raw.send(['71', '2', '3', '']);
    await raw.waitFor((f) => f[0] === '4' && f[3] === '501');
    raw.close();
  });

  test('a client id already in use: 326 and the newcomer is closed; the first client is untouched', async () => {
    const first = await TestClient.connect(rg.port, 5);
    const second = new TestClient(rg.port);
    second.ib.connect(5);
    // TWS sends 326 with id -1, which @stoqey/ib turns into an info event, not an error.
    await second.waitFor(EventName.info, (a) => a[1] === 326);
    await second.waitFor(EventName.disconnected);
    first.ib.reqCurrentTime();
    await first.waitFor(EventName.currentTime);
    assert.deepEqual([...first.decodeFailures(), ...second.decodeFailures()], []);
    first.close();
    second.close();
  });

  test('orders the simulator does not model are refused with 201 naming why; reused ids get 103', async () => {
    const c = await TestClient.connect(rg.port, 8);
    const base: Order = { action: OrderAction.BUY, totalQuantity: 1, orderType: OrderType.LMT, lmtPrice: 1.3, transmit: true, account: ACCT };
    c.ib.placeOrder(1, spyPut, { ...base, orderType: OrderType.STP, auxPrice: 1.5 });
    c.ib.placeOrder(2, spyPut, { ...base, transmit: false });
    c.ib.placeOrder(3, spyPut, { ...base, account: 'U999' });
    c.ib.placeOrder(4, { ...spyPut, symbol: 'ZZZZ' }, base);
    c.ib.placeOrder(5, spyPut, base);
    await c.waitFor(EventName.orderStatus, (a) => a[0] === 5 && a[1] === 'Filled');
    c.ib.placeOrder(5, spyPut, base);
    c.ib.placeOrder(3, spyPut, base);
    await c.waitFor(EventName.error, (a) => a[2] === 3 && a[1] === 103);
    const byId = (id: number): [string, number][] => c.errors().filter((e) => e[2] === id).map((e) => [e[0], e[1]]);
    assert.match(byId(1)[0]![0], /201|not supported by the legguard sim gateway: order type "STP"/);
    assert.equal(byId(1)[0]![1], 201);
    assert.match(byId(2)[0]![0], /transmit=false/);
    assert.match(byId(3)[0]![0], /account U999 is not managed/);
    assert.equal(byId(4)[0]![1], 200);
    assert.deepEqual(byId(5).map((e) => e[1]), [103]);
    assert.equal(broker.placed.length, 1, 'only the good order reached the broker');
    assert.deepEqual(c.decodeFailures(), []);
    assert.deepEqual(rg.protocolErrors, []);
    c.close();
  });

  test('backend events that outrun its acknowledgement still reach the order, under the client id and ref', async () => {
    broker.eventsBeforeAck = true;
    const c = await TestClient.connect(rg.port, 12);
    c.ib.placeOrder(1, spyPut, { action: OrderAction.BUY, totalQuantity: 1, orderType: OrderType.LMT, lmtPrice: 1.3, transmit: true, orderRef: 'my order' });
    await c.waitFor(EventName.orderStatus, (a) => a[0] === 1 && a[1] === 'Filled');
    const x = (await c.waitFor(EventName.execDetails))[2] as { orderId: number; orderRef: string };
    assert.deepEqual([x.orderId, x.orderRef], [1, 'my order'], 'the client gets its own ref back');
    assert.match(broker.placed[0]!.ref, /^tws\/12\/1$/, 'a ref the backend cannot take (a space) is replaced by one it can key on');
    assert.deepEqual(c.decodeFailures(), []);
    c.close();
  });

  test('the client library survives garbage from the server: an unknown message id and a frame cut short', async () => {
    const c = await TestClient.connect(rg.port, 9);
    // A well-framed message with an id no client knows: the client reports it and goes on.
    rg.gw.sendGarbage(Buffer.from([0, 0, 0, 6, 0x39, 0x39, 0x39, 0, 0x31, 0]));
    await c.waitFor(EventName.error, (a) => /No parser implementation/.test(String(a[0])));
    c.ib.reqCurrentTime();
    await c.waitFor(EventName.currentTime);
    // Half a frame, then the connection drops: the client sees a disconnect, no exception.
    rg.gw.sendGarbage(Buffer.from([0, 0, 0, 50, 0x31]));
    rg.gw.dropConnections();
    await c.waitFor(EventName.disconnected);
    c.close();
  });
});
