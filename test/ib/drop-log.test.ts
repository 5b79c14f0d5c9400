import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DropLog } from '../../src/adapters/ib/drop-log.js';
import { drop } from '../../src/adapters/ib/ib-translate.js';

test('DropLog: one warning per message and field per window; the suppressed ones are counted in the next', () => {
  let now = 1000;
  const said: string[] = [];
  const log = new DropLog(() => now, (l) => said.push(l), 60_000);
  const nan = drop('position', 'pos', 'is not a finite number: "nan"');
  log.drop(nan);
  assert.deepEqual(said, ['dropped a position message from TWS: pos is not a finite number: "nan"']);
  for (let i = 0; i < 5; i++) log.drop(nan);
  now += 59_999;
  log.drop(nan);
  assert.equal(said.length, 1, 'repeats within the window are held back');
  // Another field of the same message is its own kind: said at once.
  log.drop(drop('position', 'contract.strike', 'must be a positive price: -1'));
  log.drop(drop('execDetails', 'pos', 'x'));
  assert.equal(said.length, 3);
  assert.match(said[1]!, /position message from TWS: contract\.strike/);
  assert.match(said[2]!, /execDetails message from TWS: pos/);
  now += 1;
  log.drop(nan);
  assert.equal(said.length, 4, 'the window is over: said again');
  assert.match(said[3]!, /pos is not a finite number: "nan" \(6 more like it since the last warning\)$/);
  now += 60_000;
  log.drop(nan);
  assert.doesNotMatch(said[4]!, /more like it/, 'nothing was held back this time');
  assert.equal(log.count, 11, 'every drop is counted');
});

test('DropLog: a stream of ever-new fields does not grow without end, and is still said', () => {
  const said: string[] = [];
  const log = new DropLog(() => 0, (l) => said.push(l), 60_000);
  for (let i = 0; i < 5000; i++) log.drop(drop('position', `f${i}`, 'bad'));
  assert.equal(said.length, 5000);
  assert.equal(log.count, 5000);
});
