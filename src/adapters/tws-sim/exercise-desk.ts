import { describeContract, isOption } from '../../core/contract.js';
import { LegguardError } from '../../core/errors.js';
import { AccountId, OrderRef } from '../../core/ids.js';
import { Qty } from '../../core/quantity.js';
import type { ClientSession } from './client-session.js';
import type { ContractDirectory } from './contract-directory.js';
import type { WireExercise } from './decode-exercise.js';
import { managedAccounts, type GatewayBackend } from './gateway-backend.js';
import { TwsCode } from './message-ids.js';

/**
 * EXERCISE_OPTIONS for the gateway: checks what the client sent (IB's codes: 200 for a contract the simulator does not
 * trade, 321 for an action, quantity, override or account that is not valid), hands it to the backend's
 * `exerciseOptions`, and remembers which client's request each backend request is, so that the backend's refusal (a
 * `notice` naming its request id) reaches that client as an error on its reqId. A request TWS takes gets no answer:
 * the exercise shows as position updates.
 */
export class ExerciseDesk {
  private readonly requests = new Map<string, { readonly clientId: number; readonly reqId: number }>();
  private seq = 0;

  constructor(
    private readonly backend: GatewayBackend,
    private readonly directory: ContractDirectory,
    private readonly log: (line: string) => void,
  ) {}

  async exercise(s: ClientSession, req: WireExercise): Promise<void> {
    const refuse = (code: number, why: string): void => {
      this.log(`exercise request ${req.reqId} from client ${s.clientId ?? '-'} refused: ${why}`);
      s.error(req.reqId, code, code === TwsCode.NO_SECURITY_DEFINITION ? `No security definition has been found for the request: ${why}` : `Error validating request: ${why}`);
    };
    if (req.action !== 1 && req.action !== 2) return refuse(TwsCode.ERROR_VALIDATING_REQUEST, `exerciseAction must be 1 (exercise) or 2 (lapse); got ${req.action}`);
    if (!Number.isSafeInteger(req.quantity) || req.quantity <= 0) return refuse(TwsCode.ERROR_VALIDATING_REQUEST, `exerciseQuantity must be a positive whole number; got ${req.quantity}`);
    if (req.override !== 0 && req.override !== 1) return refuse(TwsCode.ERROR_VALIDATING_REQUEST, `override must be 0 or 1; got ${req.override}`);
    const broker = this.backend.broker;
    const accounts = managedAccounts(this.backend);
    if (req.account === '' && accounts.length > 1) return refuse(TwsCode.ERROR_VALIDATING_REQUEST, `this login manages several accounts (${accounts.join(', ')}): the request must name its account`);
    const account = req.account === '' ? accounts[0]! : req.account;
    if (!accounts.includes(account)) return refuse(TwsCode.ERROR_VALIDATING_REQUEST, `account ${account} is not managed by this login (${accounts.join(', ')})`);
    let contract;
    try {
      contract = this.directory.resolve(req.contract, (spec) => this.backend.resolve(spec));
    } catch (e) {
      if (!LegguardError.is(e, 'INVALID_INPUT')) throw e;
      return refuse(TwsCode.NO_SECURITY_DEFINITION, e.message);
    }
    if (!isOption(contract)) return refuse(TwsCode.ERROR_VALIDATING_REQUEST, `${describeContract(contract)} is not an option: only options are exercised`);
    // The wire carries no ref: each request is its own (TWS does not de-duplicate exercise requests either).
    const ref = OrderRef.unsafe(`tws/${s.clientId ?? 0}/exercise/${req.reqId}/${++this.seq}`);
    const ack = await broker.exerciseOptions({
      ref,
      account: AccountId.unsafe(account),
      contract,
      quantity: Qty.unsafe(req.quantity),
      action: req.action === 1 ? 'exercise' : 'lapse',
      override: req.override === 1,
    });
    this.requests.set(ack.requestId, { clientId: s.clientId ?? 0, reqId: req.reqId });
    this.log(`client ${s.clientId ?? '-'} ${req.action === 1 ? 'exercise' : 'lapse'} ${req.quantity} ${describeContract(contract)} (request ${req.reqId}, backend ${ack.requestId})`);
  }

  /** The client request a backend request id belongs to, if it was an exercise. */
  requestOf(backendId: string): { readonly clientId: number; readonly reqId: number } | undefined {
    return this.requests.get(backendId);
  }
}
