import type { Contract as IbContract, ContractDetails } from '@stoqey/ib';
import { contractKey, INDEX_SYMBOLS, type Contract } from '../../core/contract.js';
import type { ContractKey } from '../../core/ids.js';
import { termsFromUnderlying, type OptionTerms } from './ib-contracts.js';
import { isDrop, readContract, type Drop } from './ib-translate.js';

/**
 * What TWS has told about contracts: the conId of each (a combo order names its legs by conId), the contract behind a
 * conId (an open combo order lists its legs by conId only), and how an underlying's options exercise and settle
 * (contract details' `underSecType`; index options are European and cash-settled).
 */
export class ContractCache {
  private readonly conIds = new Map<ContractKey, number>();
  private readonly byConId = new Map<number, Contract>();
  private readonly terms = new Map<string, OptionTerms>();
  private readonly indexSymbols: ReadonlySet<string>;
  private readonly unsupportedSaid = new Set<string>();

  constructor(
    indexSymbols: readonly string[],
    private readonly dropped: (d: Drop) => void,
    private readonly say: (line: string) => void,
  ) {
    this.indexSymbols = new Set([...INDEX_SYMBOLS, ...indexSymbols.map((s) => s.toUpperCase())]);
  }

  /**
   * The legguard contract for IB's, validated, remembering its conId; null for an instrument legguard does not guard
   * (said once per kind) or one whose fields make no sense (a drop, said by the drop log).
   */
  read(c: IbContract | undefined, message: string): Contract | null {
    const contract = readContract(c, message, (s) => this.termsOf(s));
    if (isDrop(contract)) {
      this.dropped(contract);
      return null;
    }
    if (contract === null) {
      const kind = `${c?.secType ?? '?'}:${c?.symbol ?? '?'}`;
      if (!this.unsupportedSaid.has(kind) && this.unsupportedSaid.size < 1000) {
        this.unsupportedSaid.add(kind);
        this.say(`${message} in ${c?.secType ?? '?'} ${c?.symbol ?? '?'} ignored: legguard guards stock and options`);
      }
      return null;
    }
    const conId = c?.conId;
    if (typeof conId === 'number' && Number.isSafeInteger(conId) && conId > 0) this.remember(contract, conId);
    return contract;
  }

  /** What contract details said about an underlying's options, then the contract itself. */
  learn(d: ContractDetails): void {
    const t = termsFromUnderlying(d.underSecType);
    if (t && typeof d.contract?.symbol === 'string') this.terms.set(d.contract.symbol.toUpperCase(), t);
    this.read(d.contract, 'contractDetails');
  }

  remember(contract: Contract, conId: number): void {
    this.conIds.set(contractKey(contract), conId);
    this.byConId.set(conId, contract);
  }

  conIdOf(contract: Contract): number | undefined {
    return this.conIds.get(contractKey(contract));
  }

  contractOf(conId: number): Contract | undefined {
    return this.byConId.get(conId);
  }

  termsOf(symbol: string): OptionTerms | null {
    const t = this.terms.get(symbol);
    if (t) return t;
    return this.indexSymbols.has(symbol) ? { style: 'european', settlement: 'cash' } : null;
  }

  /** Whether `symbol`'s options settle in cash (an index): its price comes from IND, and no dividend is asked for. */
  isIndex(symbol: string): boolean {
    return this.terms.get(symbol)?.settlement === 'cash' || this.indexSymbols.has(symbol);
  }
}
