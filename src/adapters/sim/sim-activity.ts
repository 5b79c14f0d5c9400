import type { EpochMs } from '../../core/quantity.js';

/** Something the simulator did, for timelines and tests (not a broker event: a client never sees these). */
export interface SimActivity {
  readonly at: EpochMs;
  readonly kind:
    | 'price'
    | 'fill'
    | 'reject'
    | 'assignment'
    | 'exercise'
    | 'expiration'
    | 'cash-settlement'
    | 'manual-trade'
    | 'liquidation'
    | 'connection'
    | 'fill-model'
    | 'position'
    | 'cancel';
  readonly text: string;
}
