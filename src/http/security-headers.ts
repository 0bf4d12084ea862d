import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import helmet from 'helmet';

/**
 * Security headers of the JSON API (OWASP's REST security guidance), on every response that is
 * not an HTML page: the API is never framed, never sniffed as another type, and its answers to
 * a signed-in caller are never stored. Helmet's full set is for HTML pages (script and style
 * sources, opener and embedder policies, legacy browser switches) and means nothing to a JSON
 * reader; only the explorer and /sandbox pages get it (`pageSecurityHeaders`).
 */
export const API_SECURITY_HEADERS: readonly (readonly [string, string])[] = [
  ['content-security-policy', "frame-ancestors 'none'"],
  ['x-content-type-options', 'nosniff'],
  ['x-frame-options', 'DENY'],
];

/**
 * What an API response depends on besides its URL and body: the caller (its token), the
 * negotiated response type, and CORS (whether the origin is named).
 */
export const API_VARY = 'Accept, Authorization, Origin';

/** Browsers honour HSTS only over TLS (RFC 6797), so it is sent only then. */
export const HSTS: readonly [string, string] = ['strict-transport-security', 'max-age=31536000; includeSubDomains'];

/** Helmet's settings for the HTML pages (explorer, /sandbox), which replace its CSP with their own. */
const HELMET_OPTIONS = { crossOriginEmbedderPolicy: false } as const;

/** Helmet's full set, for the HTML pages only. */
export const pageSecurityHeaders = helmet(HELMET_OPTIONS);

/**
 * Whether the client reached us over TLS: our own socket, or a trusted proxy's
 * `X-Forwarded-Proto` (its first value), as Express's `req.protocol` decides.
 */
export function servedOverTls(req: IncomingMessage, trustProxy: (addr: string, hop: number) => boolean): boolean {
  if ((req.socket as Partial<TLSSocket>).encrypted) return true;
  const proto = req.headers['x-forwarded-proto'];
  if (typeof proto !== 'string' || !trustProxy(req.socket.remoteAddress ?? '', 0)) return false;
  const comma = proto.indexOf(',');
  return (comma < 0 ? proto : proto.slice(0, comma)).trim().toLowerCase() === 'https';
}

/** Express middleware: the API set on every response (pages replace it with helmet's). */
export function apiSecurityHeaders(trustProxy: (addr: string, hop: number) => boolean) {
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    for (const [name, value] of API_SECURITY_HEADERS) res.setHeader(name, value);
    if (servedOverTls(req, trustProxy)) res.setHeader(HSTS[0], HSTS[1]);
    res.setHeader('vary', API_VARY);
    res.setHeader('cache-control', 'no-store');
    next();
  };
}
