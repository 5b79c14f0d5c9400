import { OptionExerciseAction } from '@stoqey/ib';
import { describeContract, isOption, type Contract } from '../../core/contract.js';
import { LegguardError } from '../../core/errors.js';
import { BrokerOrderId, type OrderRef } from '../../core/ids.js';
import type { ExerciseAck, ExerciseRequest } from '../../ports/broker.js';
import { toIbContract } from './ib-contracts.js';
import type { IbConnection } from './ib-connection.js';

/** Exercise requests go with the orders that close (tier 0, the most urgent), ahead of data requests. */
const EXERCISE_PRIORITY = 0;

export interface IbExerciseDeps {
  readonly account: string;
  readonly conn: IbConnection;
  /** The conId the contract cache knows for a contract, if any (sent so TWS needs no lookup). */
  readonly conIdOf: (c: Contract) => number | undefined;
  readonly log: (line: string) => void;
}

/**
 * IB's exerciseOptions (EXERCISE_OPTIONS, message 21): `reqId, contract, exerciseAction (1 exercise, 2 lapse),
 * exerciseQuantity, account, override (0/1)`. The request carries no ref, so this class keeps the refs it sent on this
 * connection's life: the same ref twice sends nothing the second time. The request id is a fresh order id (TWS echoes
 * it on an error, which the broker then reports as a `notice` with that id). TWS sends no answer when it takes the
 * request: the exercise shows later as position updates, the option shrinking and the stock delivered.
 */
export class IbExercises {
  private readonly sent = new Map<OrderRef, BrokerOrderId>();

  constructor(private readonly d: IbExerciseDeps) {}

  async exercise(req: ExerciseRequest): Promise<ExerciseAck> {
    check(req, this.d.account);
    const known = this.sent.get(req.ref);
    if (known !== undefined) return { requestId: known, duplicate: true };
    this.d.conn.requireReady('exerciseOptions');
    const contract = toIbContract(req.contract, this.d.conIdOf(req.contract));
    const action = req.action === 'exercise' ? OptionExerciseAction.EXERCISE : OptionExerciseAction.LAPSE;
    let reqId = -1;
    await this.d.conn.send(EXERCISE_PRIORITY, (api) => {
      reqId = this.d.conn.takeOrderId();
      api.exerciseOptions(reqId, contract, action, req.quantity, req.account, req.override ? 1 : 0);
    });
    const requestId = BrokerOrderId.unsafe(String(reqId));
    this.sent.set(req.ref, requestId);
    this.d.log(`${req.action} ${req.quantity} ${describeContract(req.contract)} sent as request ${reqId} (${req.ref})`);
    return { requestId, duplicate: false };
  }
}

/** What TWS would refuse, caught before a message is spent on it. */
function check(req: ExerciseRequest, account: string): void {
  const bad = (why: string): never => {
    throw new LegguardError('INVALID_INPUT', `exercise ${req.ref}: ${why}`, { orderRef: req.ref });
  };
  if (req.account !== account) bad(`account ${req.account} is not this connection's account ${account}`);
  if (!isOption(req.contract)) bad(`${describeContract(req.contract)} is not an option`);
  if (!Number.isSafeInteger(req.quantity) || req.quantity <= 0) bad(`quantity must be a positive whole number; got ${req.quantity}`);
  if (req.action !== 'exercise' && req.action !== 'lapse') bad(`action must be exercise or lapse; got ${String(req.action)}`);
}
