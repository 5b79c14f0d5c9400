import type { Holding } from './book.js';
import { expiryClose } from './calendar.js';
import { isOption, type OptionContract } from './contract.js';

/**
 * Short options among `holdings` that nothing else in them covers, counting only options still alive at `now` (an
 * option past its expiry close is being settled, not at risk). A short call is covered by long calls on the same
 * underlying expiring no earlier, or by long stock; a short put by long puts expiring no earlier, or by short stock.
 * Coverage is counted in shares, so strikes do not matter here: a covered short can still lose money, but it cannot
 * lose without limit or deliver stock nobody holds.
 *
 * @example
 *   nakedShorts([shortPut440x2, longPut435x2, shortCall460x2], now) // [shortCall460x2]
 */
export function nakedShorts(holdings: readonly Holding[], now: number): Holding[] {
  const out: Holding[] = [];
  const shorts = holdings.filter((h) => isOption(h.contract) && h.qty < 0 && expiryClose(h.contract.expiry) > now);
  for (const s of shorts) {
    const c = s.contract as OptionContract;
    let cover = 0;
    for (const h of holdings) {
      if (h.contract.symbol !== c.symbol || h === s) continue;
      if (isOption(h.contract)) {
        if (h.contract.right === c.right && h.qty > 0 && h.contract.expiry >= c.expiry && expiryClose(h.contract.expiry) > now) {
          cover += h.qty * h.contract.multiplier;
        }
      } else if ((c.right === 'C' && h.qty > 0) || (c.right === 'P' && h.qty < 0)) {
        cover += Math.abs(h.qty);
      }
    }
    // Other shorts of the same right and underlying draw on the same cover.
    const sameSide = shorts.filter((x) => x.contract.symbol === c.symbol && (x.contract as OptionContract).right === c.right);
    const need = sameSide.reduce((a, x) => a + Math.abs(x.qty) * (x.contract as OptionContract).multiplier, 0);
    if (cover < need) out.push(s);
  }
  return out;
}
