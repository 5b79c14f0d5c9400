import { styleText } from 'node:util';
import { describeContract } from '../core/contract.js';
import type { BrokerEvent } from '../core/events.js';
import { formatNyTime } from '../core/calendar.js';
import { describeOrder } from '../engine/closer.js';
import { signed } from '../engine/incident.js';
import type { TimelineEntry } from '../engine/timeline.js';

type Style = Parameters<typeof styleText>[0];

/** Formats timeline entries as lines for a person: time in New York, a tag, what happened. Coloured on a TTY. */
export class TimelineFormatter {
  constructor(private readonly color: boolean) {}

  private paint(style: Style, s: string): string {
    return this.color ? styleText(style, s) : s;
  }

  time(at: number): string {
    return formatNyTime(at);
  }

  private line(at: number, tag: string, style: Style, text: string): string {
    return `${this.paint('dim', this.time(at))}  ${this.paint(style, tag.padEnd(9))} ${text}`;
  }

  /** One line, or null for entries not worth showing a person (quotes, notices). */
  format(e: TimelineEntry): string | null {
    switch (e.kind) {
      case 'broker-event': {
        const text = describeEvent(e.event);
        return text === null ? null : this.line(e.at, 'BROKER', 'cyan', text);
      }
      case 'detection': {
        const d = e.detection;
        const who = d.strategyId ?? 'outside strategies';
        return this.line(e.at, 'DETECT', 'yellow', `${who}: ${d.cause}${d.kind ? ` ${d.kind}` : ''}: ${describeContract(d.contract)} ${signed(d.change)} (held ${d.before})`);
      }
      case 'state':
        return this.line(e.at, 'STATE', e.to === 'BROKEN' || e.to === 'NEEDS_ATTENTION' ? 'red' : e.to === 'CLOSED' ? 'green' : 'blue', `${e.strategyId}: ${e.from ?? '-'} -> ${e.to} (${e.reason})`);
      case 'decision':
        return this.line(e.at, 'DECISION', 'magenta', `${e.decision.strategyId}: ${e.decision.action} [${e.decision.urgency}, ${e.decision.rule}] ${e.decision.reason}`);
      case 'order-planned':
        return this.line(e.at, 'PLAN', 'blue', `${e.order.request.strategyId}: ${describeOrder(e.order.request)} [${e.order.request.ref}]`);
      case 'order-sent':
        return this.line(e.at, 'ORDER', 'bold', `${e.order.request.strategyId}: sent ${describeOrder(e.order.request)} [${e.order.request.ref}]`);
      case 'order-update':
        return this.line(e.at, 'ORDER', e.status === 'rejected' ? 'red' : e.status === 'filled' ? 'green' : 'white', `${e.order.request.strategyId}: ${e.order.request.ref} ${e.status}${e.reason ? `: ${e.reason}` : ''}`);
      case 'gate-refused':
        return this.line(e.at, 'GATE', 'red', `${e.strategyId}: refused ${e.ref}: ${e.reason}`);
      case 'alert': {
        const tag = e.alert.severity === 'critical' ? 'ALERT!' : e.alert.severity === 'warning' ? 'ALERT' : 'INFO';
        return this.line(e.at, tag, e.alert.severity === 'critical' ? 'red' : e.alert.severity === 'warning' ? 'yellow' : 'green', `${e.alert.title}: ${e.alert.text}`);
      }
      case 'reconciled':
        return e.discrepancies.length === 0 ? null : this.line(e.at, 'RECONCILE', 'cyan', `${e.reason}: ${e.discrepancies.join('; ')}`);
      case 'latency':
        return this.line(e.at, 'LATENCY', 'dim', `${e.strategyId}: broker event to orders ${e.latencyMs.toFixed(2)} ms`);
      case 'note':
        return this.line(e.at, 'NOTE', 'dim', `${e.strategyId ? `${e.strategyId}: ` : ''}${e.text}`);
    }
  }
}

export function describeEvent(ev: BrokerEvent): string | null {
  switch (ev.kind) {
    case 'position':
      return `position ${describeContract(ev.contract)} now ${ev.qty}`;
    case 'execution':
      return `execution ${ev.side} ${ev.qty} ${describeContract(ev.contract)} @ ${ev.price}${ev.orderRef ? ` [${ev.orderRef}]` : ' (not legguard)'}${ev.liquidation ? ' LIQUIDATION' : ''}`;
    case 'order-status':
      return null;
    case 'connection':
      return `connection ${ev.state}${ev.dataLost ? ' (data lost)' : ''}${ev.reason ? `: ${ev.reason}` : ''}`;
    case 'quote':
    case 'commission':
      return null;
    case 'notice':
      return `notice ${ev.code}: ${ev.message}`;
  }
}
