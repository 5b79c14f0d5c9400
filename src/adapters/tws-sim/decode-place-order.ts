import { LegguardError } from '../../core/errors.js';
import { FieldReader } from './field-reader.js';
import { readWireContract, type WireComboLeg, type WireContract } from './wire-contract.js';

/** A PLACE_ORDER as the gateway uses it; everything else in the message is read, checked for layout, and dropped. */
export interface WireOrder {
  readonly orderId: number;
  readonly contract: WireContract;
  readonly comboLegs: readonly WireComboLeg[];
  readonly action: string;
  readonly totalQuantity: number;
  readonly orderType: string;
  readonly lmtPrice: number | null;
  readonly tif: string;
  readonly account: string;
  readonly orderRef: string;
  readonly transmit: boolean;
  readonly outsideRth: boolean;
  /**
   * Why the gateway will not take this order (an order type, attribute or feature legguard's simulator does not
   * model), or null. The order is still fully read, so the connection stays in step.
   */
  readonly unsupported: string | null;
}

const SUPPORTED_TYPES = new Set(['LMT', 'MKT']);
const SUPPORTED_TIFS = new Set(['', 'DAY']);

/**
 * Reads PLACE_ORDER at server version 193 (no version field; `orderId` first), field for field as IB's clients write
 * it. Layout-changing sections (combo legs, delta-neutral, scale, hedge, algo, conditions) are followed exactly, so
 * a message with features the gateway does not support is still consumed whole and can be answered with a 201 on
 * its order id. Peg orders end in a layout that depends on values the wire does not carry unambiguously; they are
 * refused as soon as the order type is read.
 */
export function decodePlaceOrder(fields: readonly string[], start: number): WireOrder {
  const r = new FieldReader(fields, 'PLACE_ORDER', start);
  const orderId = r.id('orderId');
  try {
    return readRest(r, orderId);
  } catch (e) {
    if (LegguardError.is(e)) throw new LegguardError(e.code, e.message, { ...e.details, orderId });
    throw e;
  }
}

function readRest(r: FieldReader, orderId: number): WireOrder {
  const unsupported: string[] = [];
  const contract = readWireContract(r);
  r.skip('secIdType');
  r.skip('secId');
  const action = r.str('action');
  const totalQuantity = r.float('totalQuantity');
  const orderType = r.str('orderType').toUpperCase();
  const lmtPrice = r.floatOrNull('lmtPrice');
  r.floatOrNull('auxPrice');
  const base = { orderId, contract, action, totalQuantity, orderType, lmtPrice };
  if (!SUPPORTED_TYPES.has(orderType)) {
    // Peg orders change the tail's layout in ways the wire cannot disambiguate; stop here and refuse.
    return { ...base, comboLegs: [], tif: '', account: '', orderRef: '', transmit: false, outsideRth: false, unsupported: `order type ${JSON.stringify(orderType)} (the sim gateway takes LMT and MKT)` };
  }
  const tif = r.str('tif').toUpperCase();
  if (!SUPPORTED_TIFS.has(tif)) unsupported.push(`time in force ${tif} (the sim gateway takes DAY)`);
  if (r.str('ocaGroup') !== '') unsupported.push('OCA groups');
  const account = r.str('account');
  r.skip('openClose');
  r.skip('origin');
  const orderRef = r.str('orderRef');
  const transmit = r.bool('transmit');
  if (!transmit) unsupported.push('transmit=false (the order would sit untransmitted; set transmit: true)');
  if (r.int('parentId') !== 0) unsupported.push('child orders (parentId)');
  r.bool('blockOrder');
  r.bool('sweepToFill');
  r.intOrNull('displaySize');
  r.int('triggerMethod');
  const outsideRth = r.bool('outsideRth');
  r.bool('hidden');

  const comboLegs: WireComboLeg[] = [];
  if (contract.secType.toUpperCase() === 'BAG') {
    const n = r.int('comboLegsCount');
    for (let i = 0; i < n; i++) {
      const conId = r.int(`comboLegs[${i}].conId`);
      const ratio = r.int(`comboLegs[${i}].ratio`);
      const legAction = r.str(`comboLegs[${i}].action`);
      const exchange = r.str(`comboLegs[${i}].exchange`);
      r.skip(`comboLegs[${i}].openClose`);
      r.skip(`comboLegs[${i}].shortSaleSlot`);
      r.skip(`comboLegs[${i}].designatedLocation`);
      r.skip(`comboLegs[${i}].exemptCode`);
      comboLegs.push({ conId, ratio, action: legAction, exchange });
    }
    const nPrices = r.int('orderComboLegsCount');
    for (let i = 0; i < nPrices; i++) {
      if (r.floatOrNull(`orderComboLegs[${i}].price`) !== null) unsupported.push('per-leg combo prices');
    }
    const nParams = r.int('smartComboRoutingParamsCount');
    r.skip('smartComboRoutingParams', 2 * nParams);
  }

  r.skip('sharesAllocation');
  r.floatOrNull('discretionaryAmt');
  if (r.str('goodAfterTime') !== '') unsupported.push('goodAfterTime');
  if (r.str('goodTillDate') !== '') unsupported.push('goodTillDate');
  r.skip('faGroup');
  r.skip('faMethod');
  r.skip('faPercentage');
  r.skip('modelCode');
  r.skip('shortSaleSlot');
  r.skip('designatedLocation');
  r.skip('exemptCode');
  r.skip('ocaType');
  r.skip('rule80A');
  r.skip('settlingFirm');
  r.bool('allOrNone');
  r.skip('minQty');
  r.skip('percentOffset');
  r.bool('eTradeOnly');
  r.bool('firmQuoteOnly');
  r.skip('nbboPriceCap');
  r.skip('auctionStrategy');
  r.skip('startingPrice');
  r.skip('stockRefPrice');
  r.skip('delta');
  r.skip('stockRangeLower');
  r.skip('stockRangeUpper');
  r.bool('overridePercentageConstraints');
  r.skip('volatility');
  r.skip('volatilityType');
  const dnOrderType = r.str('deltaNeutralOrderType');
  r.skip('deltaNeutralAuxPrice');
  if (dnOrderType !== '') {
    unsupported.push('delta-neutral orders');
    r.skip('deltaNeutral conId/settlingFirm/clearingAccount/clearingIntent', 4);
    r.skip('deltaNeutral openClose/shortSale/shortSaleSlot/designatedLocation', 4);
  }
  r.skip('continuousUpdate');
  r.skip('referencePriceType');
  r.skip('trailStopPrice');
  r.skip('trailingPercent');
  r.skip('scaleInitLevelSize');
  r.skip('scaleSubsLevelSize');
  const scaleIncrement = r.str('scalePriceIncrement');
  if (scaleIncrement !== '') {
    unsupported.push('scale orders');
    r.skip('scale adjust/profit/reset/position/fill/random fields', 7);
  }
  if (r.str('scaleTable') !== '') unsupported.push('scale tables');
  r.skip('activeStartTime');
  r.skip('activeStopTime');
  if (r.str('hedgeType') !== '') {
    unsupported.push('hedge orders');
    r.skip('hedgeParam');
  }
  r.bool('optOutSmartRouting');
  r.skip('clearingAccount');
  r.skip('clearingIntent');
  r.bool('notHeld');
  if (r.bool('deltaNeutralContract')) {
    unsupported.push('delta-neutral contracts');
    r.skip('deltaNeutralContract conId/delta/price', 3);
  }
  if (r.str('algoStrategy') !== '') {
    unsupported.push('algo orders');
    r.skip('algoParams', 2 * r.int('algoParamsCount'));
  }
  r.skip('algoId');
  if (r.bool('whatIf')) unsupported.push('what-if orders');
  r.skip('orderMiscOptions');
  r.bool('solicited');
  r.bool('randomizeSize');
  r.bool('randomizePrice');
  const nConditions = r.int('conditionsCount');
  if (nConditions > 0) {
    unsupported.push('conditional orders');
    for (let i = 0; i < nConditions; i++) skipCondition(r, i);
    r.bool('conditionsIgnoreRth');
    r.bool('conditionsCancelOrder');
  }
  r.skip('adjustedOrderType');
  r.skip('triggerPrice');
  r.skip('lmtPriceOffset');
  r.skip('adjustedStopPrice');
  r.skip('adjustedStopLimitPrice');
  r.skip('adjustedTrailingAmount');
  r.skip('adjustableTrailingUnit');
  r.skip('extOperator');
  r.skip('softDollarTier.name');
  r.skip('softDollarTier.value');
  if (r.floatOrNull('cashQty') !== null) unsupported.push('cash quantity orders');
  r.skip('mifid2DecisionMaker');
  r.skip('mifid2DecisionAlgo');
  r.skip('mifid2ExecutionTrader');
  r.skip('mifid2ExecutionAlgo');
  r.bool('dontUseAutoPriceForHedge');
  r.bool('isOmsContainer');
  r.bool('discretionaryUpToLimitPrice');
  r.skip('usePriceMgmtAlgo');
  r.skip('duration');
  r.skip('postToAts');
  r.bool('autoCancelParent');
  r.skip('advancedErrorOverride');
  r.skip('manualOrderTime');
  if (contract.exchange.toUpperCase() === 'IBKRATS') r.skip('minTradeQty');
  r.skip('customerAccount');
  r.bool('professionalCustomer');
  r.bool('includeOvernight');
  r.skip('manualOrderIndicator');
  r.end();

  if (action !== 'BUY' && action !== 'SELL') unsupported.push(`action ${JSON.stringify(action)} (BUY or SELL)`);
  if (!(totalQuantity > 0) || !Number.isInteger(totalQuantity)) unsupported.push(`quantity ${totalQuantity} (a positive whole number)`);
  if (orderType === 'LMT' && lmtPrice === null) unsupported.push('a limit order without a limit price');
  return {
    ...base,
    comboLegs,
    tif,
    account,
    orderRef,
    transmit,
    outsideRth,
    unsupported: unsupported.length > 0 ? unsupported.join('; ') : null,
  };
}

/** One order condition: type and conjunction, then fields that depend on the type (IB's OrderConditionType). */
function skipCondition(r: FieldReader, i: number): void {
  const type = r.int(`conditions[${i}].type`);
  r.skip(`conditions[${i}].conjunction`);
  const perType: Record<number, number> = { 1: 5, 3: 2, 4: 2, 5: 3, 6: 4, 7: 4 };
  const n = perType[type];
  if (n === undefined) {
    throw new LegguardError('PROTOCOL_ERROR', `PLACE_ORDER: conditions[${i}] has unknown condition type ${type}`);
  }
  r.skip(`conditions[${i}] fields`, n);
}
