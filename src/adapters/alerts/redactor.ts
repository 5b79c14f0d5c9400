/** What a secret is replaced with. */
export const REDACTED = '[redacted]';

/**
 * Removes known secret values (bot tokens, webhook URLs, passwords read from the environment) from any text before
 * it reaches a log line, an error message, `status` output or the outbox's `lastError`. A secret is also removed in
 * its URL-encoded and JSON-escaped forms, since that is how it shows up in a request URL or an echoed body.
 *
 * @example
 *   const r = new Redactor(['123:AAH-token']);
 *   r.redact('POST https://api.telegram.org/bot123:AAH-token/sendMessage failed'); // '... /bot[redacted]/sendMessage failed'
 */
export class Redactor {
  private readonly needles: readonly string[];

  constructor(secrets: Iterable<string | undefined | null>) {
    const set = new Set<string>();
    for (const s of secrets) {
      if (typeof s !== 'string' || s.length === 0) continue;
      set.add(s);
      set.add(encodeURIComponent(s));
      set.add(JSON.stringify(s).slice(1, -1));
    }
    // Longest first, so a secret that contains another is removed whole.
    this.needles = [...set].sort((a, b) => b.length - a.length);
  }

  /** A redactor that also knows `more`. */
  with(more: Iterable<string | undefined | null>): Redactor {
    return new Redactor([...this.needles, ...more]);
  }

  redact(text: string): string {
    let out = text;
    // Again until nothing is found: the marker next to leftover text can spell a secret anew (`]zzz` after `[redacted`).
    for (let round = 0; round < 20; round++) {
      let changed = false;
      for (const n of this.needles) {
        if (out.includes(n)) {
          out = out.split(n).join(REDACTED);
          changed = true;
        }
      }
      if (!changed) return out;
    }
    return REDACTED;
  }

  /** The message of anything thrown, redacted, with a network error's code (`ECONNREFUSED`) when it has one. */
  describe(e: unknown): string {
    if (!(e instanceof Error)) return this.redact(String(e));
    const cause = e.cause;
    const code =
      cause !== null && typeof cause === 'object' && 'code' in cause && typeof cause.code === 'string' ? cause.code : undefined;
    const causeMsg = cause instanceof Error ? cause.message : undefined;
    const parts = [e.message];
    if (causeMsg && !e.message.includes(causeMsg)) parts.push(causeMsg);
    else if (code && !e.message.includes(code)) parts.push(code);
    return this.redact(parts.join(': '));
  }
}

/**
 * A URL shown without anything that could be secret: scheme and host only. Webhook URLs carry their secret in the
 * path (`https://hooks.slack.com/services/T0/B0/XXXX`), Telegram's in `/bot<token>/`, ntfy's in the topic name.
 */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/…`;
  } catch {
    return '(invalid URL)';
  }
}
