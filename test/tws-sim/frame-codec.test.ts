import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeFrame, encodeHandshake, FrameReader, parseHandshake, splitFields } from '../../src/adapters/tws-sim/frame-codec.js';
import { FieldReader } from '../../src/adapters/tws-sim/field-reader.js';
import { LegguardError } from '../../src/core/errors.js';

const field = fc.string({ maxLength: 12 }).filter((s) => !s.includes('\0'));

describe('frame codec', () => {
  test('any fields survive framing and any split of the byte stream', () => {
    fc.assert(
      fc.property(fc.array(fc.array(field, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 6 }), fc.array(fc.nat(40), { maxLength: 10 }), (messages, cuts) => {
        const bytes = Buffer.concat(messages.map((m) => encodeFrame(m)));
        const reader = new FrameReader();
        const out: string[][] = [];
        let at = 0;
        for (const c of [...cuts, bytes.length]) {
          const end = Math.min(bytes.length, at + c);
          for (const f of reader.push(bytes.subarray(at, end))) out.push(splitFields(f));
          at = end;
        }
        for (const f of reader.push(bytes.subarray(at))) out.push(splitFields(f));
        assert.deepEqual(out, messages);
        assert.equal(reader.pending, 0);
      }),
    );
  });

  test('fields: booleans as 1/0, unset as empty, non-finite numbers and NUL bytes refused', () => {
    assert.deepEqual(splitFields(encodeFrame([1, true, false, null, undefined, 'x', 1.5]).subarray(4)), ['1', '1', '0', '', '', 'x', '1.5']);
    assert.throws(() => encodeFrame([Number.NaN]), /field 0 is not a finite number/);
    assert.throws(() => encodeFrame(['a\0b']), /contains a NUL byte/);
  });

  test('an unterminated or empty payload is a protocol error', () => {
    assert.throws(() => splitFields(Buffer.from('49\x001')), (e) => LegguardError.is(e, 'PROTOCOL_ERROR') && /not NUL-terminated/.test(e.message));
    assert.throws(() => splitFields(Buffer.alloc(0)), /empty message/);
  });

  test('a length past the limit is refused; a truncated frame is reported as such', () => {
    const r = new FrameReader(100);
    assert.throws(() => r.push(Buffer.from([0, 0, 1, 0, 1])), /frame length 256 exceeds the 100-byte limit/);
    const t = new FrameReader();
    t.push(Buffer.from([0, 0, 0, 10, 0x31, 0x32]));
    assert.deepEqual(t.truncation(), { have: 6, need: 14 });
  });

  test('handshake: parsed when complete, null while partial, clear errors when wrong', () => {
    const hs = encodeHandshake(100, 193);
    assert.equal(parseHandshake(hs.subarray(0, 6)), null);
    assert.deepEqual(parseHandshake(Buffer.concat([hs, Buffer.from([1, 2])])), { minVersion: 100, maxVersion: 193, options: '', consumed: hs.length });
    assert.deepEqual({ ...parseHandshake(encodeHandshake(176, 176))! }, { minVersion: 176, maxVersion: 176, options: '', consumed: 12 });
    assert.throws(() => parseHandshake(Buffer.from('HELLO')), /not a TWS API client/);
    const bad = Buffer.concat([Buffer.from('API\0'), Buffer.from([0, 0, 0, 3]), Buffer.from('xyz')]);
    assert.throws(() => parseHandshake(bad), /expected "v<min>..<max>", got "xyz"/);
  });
});

describe('field reader', () => {
  test('ints, doubles, bools with IB unset markers; errors name the message, field and id', () => {
    const r = new FieldReader(['7', '', '2147483647', '1.5', '', '1.7976931348623157E308', '1', '0', 'x'], 'TEST');
    assert.equal(r.id('reqId'), 7);
    assert.equal(r.intOrNull('a'), null);
    assert.equal(r.intOrNull('b'), null);
    assert.equal(r.float('c'), 1.5);
    assert.equal(r.float('d'), 0);
    assert.equal(r.floatOrNull('e'), null);
    assert.equal(r.bool('f'), true);
    assert.equal(r.bool('g'), false);
    assert.throws(
      () => r.int('h'),
      (e) => LegguardError.is(e, 'PROTOCOL_ERROR') && e.details.reqId === 7 && /TEST: field 8 \(h\) must be a whole number; got "x"/.test(e.message),
    );
    assert.throws(() => new FieldReader(['1', '2'], 'M').end(), /2 unexpected field/);
  });
});
