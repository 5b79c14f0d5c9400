/**
 * A database URL fit for a message or a log: the password (in the user-info part or a `password=` parameter) is
 * replaced by `***`. A string that does not parse as a URL is not shown at all, since it may hold a password in a
 * form this function does not recognise.
 *
 * @example redactUrl('postgres://guard:s3cret@db:5432/legguard') // 'postgres://guard:***@db:5432/legguard'
 */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return '<database URL not shown: it does not parse>';
  }
  if (u.password !== '') u.password = '***';
  for (const name of [...u.searchParams.keys()]) {
    if (/^(password|passwd|pwd|sslpassword|sslkey)$/i.test(name)) u.searchParams.set(name, '***');
  }
  return u.toString();
}

/** The URL's password, decoded, for scrubbing it out of driver messages; null when there is none. */
export function urlPassword(url: string): string | null {
  try {
    const u = new URL(url);
    const fromQuery = u.searchParams.get('password');
    if (u.password !== '') return decodeURIComponent(u.password);
    return fromQuery !== null && fromQuery !== '' ? fromQuery : null;
  } catch {
    return null;
  }
}

/** `text` with every occurrence of `secret` (raw or URL-encoded) replaced by `***`. */
export function scrub(text: string, secret: string | null): string {
  if (secret === null || secret.length === 0) return text;
  let out = text.split(secret).join('***');
  const encoded = encodeURIComponent(secret);
  if (encoded !== secret) out = out.split(encoded).join('***');
  return out;
}
