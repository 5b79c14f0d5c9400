import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameCheck } from '../../src/adapters/ib/ib-socket.js';
import { encodeFrame } from '../../src/adapters/tws-sim/frame-codec.js';

const stream = Buffer.concat([encodeFrame(['193', '20260128 10:30:00 US/Eastern']), encodeFrame(['9', '1', '1']), encodeFrame(['15', '1', 'DU0000001'])]);

test('FrameCheck: a valid stream passes however it is cut into chunks', () => {
  for (const size of [1, 2, 3, 5, 7, 64, stream.length]) {
    const c = new FrameCheck();
    for (let i = 0; i < stream.length; i += size) c.push(stream.subarray(i, i + size));
  }
});

test('FrameCheck: lengths of 0, above 16 MiB - 1 or negative as a signed int, and a payload without its final NUL, throw', () => {
  const len = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n >>> 0, 0);
    return b;
  };
  for (const bad of [len(0), len(0x1000000), len(0x7fffffff), len(0xfffffffc), Buffer.concat([len(3), Buffer.from('61x')])]) {
    const c = new FrameCheck();
    c.push(stream.subarray(0, 20));
    assert.throws(
      () => {
        c.push(stream.subarray(20));
        for (const byte of bad) c.push(Buffer.from([byte]));
      },
      (e: unknown) => e instanceof Error && /TWS sent a frame/.test(e.message),
    );
  }
});
