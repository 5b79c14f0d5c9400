import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { REDACTED, Redactor, safeUrl } from '../../src/adapters/alerts/redactor.js';

describe('Redactor', () => {
  test('removes each secret wherever it appears, including URL-encoded and JSON-escaped forms', () => {
    const r = new Redactor(['123:AA/b+c"d', 'pw', undefined, null, '']);
    assert.equal(r.redact('a 123:AA/b+c"d b 123:AA/b+c"d'), `a ${REDACTED} b ${REDACTED}`);
    assert.equal(r.redact(`url /bot${encodeURIComponent('123:AA/b+c"d')}/x`), `url /bot${REDACTED}/x`);
    assert.equal(r.redact(JSON.stringify({ t: '123:AA/b+c"d' })), `{"t":"${REDACTED}"}`);
    assert.equal(r.redact('password: pw'), `password: ${REDACTED}`);
  });

  test('a secret spelled anew by the marker and what follows is removed too', () => {
    const r = new Redactor([']zzz']);
    assert.ok(!r.redact(']zzzzzz').includes(']zzz'));
  });

  test('a secret containing another is removed whole', () => {
    const r = new Redactor(['abc', 'xxabcxx']);
    assert.equal(r.redact('1 xxabcxx 2 abc'), `1 ${REDACTED} 2 ${REDACTED}`);
  });

  test('with() adds secrets and keeps the old ones', () => {
    const r = new Redactor(['one-secret']).with(['two-secret']);
    assert.equal(r.redact('one-secret two-secret'), `${REDACTED} ${REDACTED}`);
  });

  test('describe: an error, its cause and its network code, redacted', () => {
    const r = new Redactor(['tok-123456']);
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1 /bottok-123456'), { code: 'ECONNREFUSED' });
    assert.equal(r.describe(new TypeError('fetch failed', { cause })), `fetch failed: connect ECONNREFUSED 127.0.0.1:1 /bot${REDACTED}`);
    assert.equal(r.describe(new TypeError('fetch failed', { cause: { code: 'ENOTFOUND' } })), 'fetch failed: ENOTFOUND');
    assert.equal(r.describe('plain tok-123456'), `plain ${REDACTED}`);
  });

  test('property: no secret survives redaction, wherever it is put, even spelled anew next to the marker', () => {
    // A small alphabet that shares characters with the marker makes overlaps likely.
    const ch = fc.constantFrom('[', ']', 'd', 'e', 'z', 'r', '%', '"', '\\');
    const secret = fc.string({ unit: ch, minLength: 2, maxLength: 12 }).filter((s) => !REDACTED.includes(s));
    fc.assert(
      fc.property(secret, fc.array(fc.string({ unit: ch, maxLength: 20 }), { minLength: 1, maxLength: 5 }), (s, parts) => {
        const text = parts.join(s) + s;
        const out = new Redactor([s]).redact(text);
        return !out.includes(s);
      }),
      { numRuns: 2000 },
    );
  });

  test('safeUrl keeps scheme and host only', () => {
    assert.equal(safeUrl('https://hooks.slack.com/services/T000/B000/XXXXSECRET'), 'https://hooks.slack.com/…');
    assert.equal(safeUrl('http://user:pw@127.0.0.1:8080/bot123:abc/sendMessage?x=1'), 'http://127.0.0.1:8080/…');
    assert.equal(safeUrl('not a url'), '(invalid URL)');
  });
});
