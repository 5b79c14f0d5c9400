/** The one server version this gateway speaks (the highest @stoqey/ib 1.6.10 knows; no protobuf). */
export const SERVER_VERSION = 193;
/** The lowest client range bound a V100+ client may ask for. */
export const MIN_CLIENT_VERSION = 100;

/** Messages a client sends (IB's "outgoing" ids, seen from the server). */
export const ClientMsg = {
  REQ_MKT_DATA: 1,
  CANCEL_MKT_DATA: 2,
  PLACE_ORDER: 3,
  CANCEL_ORDER: 4,
  REQ_OPEN_ORDERS: 5,
  REQ_ACCOUNT_DATA: 6,
  REQ_EXECUTIONS: 7,
  REQ_IDS: 8,
  REQ_CONTRACT_DATA: 9,
  REQ_AUTO_OPEN_ORDERS: 15,
  REQ_ALL_OPEN_ORDERS: 16,
  REQ_MANAGED_ACCTS: 17,
  EXERCISE_OPTIONS: 21,
  REQ_CURRENT_TIME: 49,
  REQ_GLOBAL_CANCEL: 58,
  REQ_MARKET_DATA_TYPE: 59,
  REQ_POSITIONS: 61,
  CANCEL_POSITIONS: 64,
  START_API: 71,
  REQ_COMPLETED_ORDERS: 99,
  /**
   * Not IB's: a legguard client in a lockstep drill saying it has handled everything up to the n-th CURRENT_TIME
   * message of its connection and what time it must be woken at (`legguard sim-gateway --lockstep`). Far above IB's
   * ids, so no TWS message is ever taken for it.
   */
  LEGGUARD_LOCKSTEP_IDLE: 9001,
} as const;

/** Messages the server sends (IB's "incoming" ids, seen from the client). */
export const ServerMsg = {
  TICK_PRICE: 1,
  TICK_SIZE: 2,
  ORDER_STATUS: 3,
  ERR_MSG: 4,
  OPEN_ORDER: 5,
  ACCT_VALUE: 6,
  PORTFOLIO_VALUE: 7,
  ACCT_UPDATE_TIME: 8,
  NEXT_VALID_ID: 9,
  CONTRACT_DATA: 10,
  EXECUTION_DATA: 11,
  MANAGED_ACCTS: 15,
  TICK_OPTION_COMPUTATION: 21,
  TICK_STRING: 46,
  CURRENT_TIME: 49,
  CONTRACT_DATA_END: 52,
  OPEN_ORDER_END: 53,
  ACCT_DOWNLOAD_END: 54,
  EXECUTION_DATA_END: 55,
  TICK_SNAPSHOT_END: 57,
  MARKET_DATA_TYPE: 58,
  COMMISSION_REPORT: 59,
  POSITION: 61,
  POSITION_END: 62,
  TICK_REQ_PARAMS: 81,
  COMPLETED_ORDER: 101,
  COMPLETED_ORDERS_END: 102,
} as const;

/**
 * Client message ids TWS knows that this gateway does not implement (historical data, scanners, news ...). They get
 * a 321 naming the message instead of the 320 an unknown id gets.
 */
export const UNIMPLEMENTED_CLIENT_MSGS: Readonly<Record<number, string>> = {
  10: 'REQ_MKT_DEPTH',
  11: 'CANCEL_MKT_DEPTH',
  12: 'REQ_NEWS_BULLETINS',
  13: 'CANCEL_NEWS_BULLETINS',
  14: 'SET_SERVER_LOGLEVEL',
  18: 'REQ_FA',
  19: 'REPLACE_FA',
  20: 'REQ_HISTORICAL_DATA',
  22: 'REQ_SCANNER_SUBSCRIPTION',
  23: 'CANCEL_SCANNER_SUBSCRIPTION',
  24: 'REQ_SCANNER_PARAMETERS',
  25: 'CANCEL_HISTORICAL_DATA',
  50: 'REQ_REAL_TIME_BARS',
  51: 'CANCEL_REAL_TIME_BARS',
  52: 'REQ_FUNDAMENTAL_DATA',
  53: 'CANCEL_FUNDAMENTAL_DATA',
  54: 'REQ_CALC_IMPLIED_VOLAT',
  55: 'REQ_CALC_OPTION_PRICE',
  56: 'CANCEL_CALC_IMPLIED_VOLAT',
  57: 'CANCEL_CALC_OPTION_PRICE',
  62: 'REQ_ACCOUNT_SUMMARY',
  63: 'CANCEL_ACCOUNT_SUMMARY',
  74: 'REQ_POSITIONS_MULTI',
  75: 'CANCEL_POSITIONS_MULTI',
  76: 'REQ_ACCOUNT_UPDATES_MULTI',
  77: 'CANCEL_ACCOUNT_UPDATES_MULTI',
  78: 'REQ_SEC_DEF_OPT_PARAMS',
  79: 'REQ_SOFT_DOLLAR_TIERS',
  80: 'REQ_FAMILY_CODES',
  81: 'REQ_MATCHING_SYMBOLS',
  82: 'REQ_MKT_DEPTH_EXCHANGES',
  83: 'REQ_SMART_COMPONENTS',
  87: 'REQ_HEAD_TIMESTAMP',
  91: 'REQ_MARKET_RULE',
  92: 'REQ_PNL',
  93: 'CANCEL_PNL',
  94: 'REQ_PNL_SINGLE',
  95: 'CANCEL_PNL_SINGLE',
  96: 'REQ_HISTORICAL_TICKS',
  97: 'REQ_TICK_BY_TICK_DATA',
  98: 'CANCEL_TICK_BY_TICK_DATA',
  104: 'REQ_USER_INFO',
};

/**
 * IB message codes the gateway sends (ERR_MSG), with IB's wording where it matters to clients that match on text.
 * Codes under 1100 with a request or order id are errors for that request; 1100-1102 and 2100+ are notices.
 */
export const TwsCode = {
  /** The order id is not above every id this client used before. */
  DUPLICATE_ORDER_ID: 103,
  NO_SECURITY_DEFINITION: 200,
  ORDER_REJECTED: 201,
  ORDER_CANCELLED: 202,
  /** Cancel of an order that is already done. */
  NOT_CANCELLABLE: 161,
  /** A request the gateway could not parse. */
  ERROR_READING_REQUEST: 320,
  /** A request it parsed but refuses (unimplemented, not applicable). */
  ERROR_VALIDATING_REQUEST: 321,
  CLIENT_ID_IN_USE: 326,
  MARKET_DATA_NOT_SUBSCRIBED: 354,
  ORDER_MESSAGE: 399,
  NOT_CONNECTED: 504,
  CONNECTIVITY_LOST: 1100,
  RESTORED_DATA_LOST: 1101,
  RESTORED_DATA_MAINTAINED: 1102,
  MARKET_DATA_FARM_OK: 2104,
  HMDS_FARM_OK: 2106,
  TWS_SERVER_BROKEN: 2110,
  SECDEF_FARM_OK: 2158,
  ORDER_NOT_FOUND: 10147,
} as const;

export const TWS_TEXT: Readonly<Record<number, string>> = {
  1100: 'Connectivity between IB and Trader Workstation has been lost.',
  1101: 'Connectivity between IB and Trader Workstation has been restored - data lost.',
  1102: 'Connectivity between IB and Trader Workstation has been restored - data maintained.',
  2104: 'Market data farm connection is OK:usfarm',
  2106: 'HMDS data farm connection is OK:ushmds',
  2110: 'Connectivity between Trader Workstation and server is broken. It will be restored automatically.',
  2158: 'Sec-def data farm connection is OK:secdefnj',
};
