import type { NextFunction, Request, Response } from 'express';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Apollo trusts the shape of `extensions.persistedQuery` (a string or a missing hash reaches
 * the APQ store as a key); it is checked here first, for POST bodies and GET parameters alike,
 * and refused with 400 BAD_REQUEST naming what is wrong. The hash matching its query and the
 * version are Apollo's to check (formatted as BAD_REQUEST too, see errors/format-error.ts).
 */
export function persistedQueryShape(req: Request, res: Response, next: NextFunction): void {
  const problem = problemOfPersistedQuery(extensionsOf(req));
  if (!problem) return next();
  res.status(400).json({ errors: [{ message: problem, extensions: { code: 'BAD_REQUEST' } }] });
}

function extensionsOf(req: Request): unknown {
  if (req.method === 'GET') {
    const raw = (req.query as Record<string, unknown>).extensions;
    if (typeof raw !== 'string') return undefined;
    try {
      return JSON.parse(raw);
    } catch {
      return undefined; // Apollo answers unparsable extensions itself
    }
  }
  const body: unknown = req.body;
  return body && typeof body === 'object' && Object.hasOwn(body, 'extensions')
    ? (body as { extensions: unknown }).extensions
    : undefined;
}

/** What is wrong with `extensions.persistedQuery`, or null (also used by http/graphql-handler.ts). */
export function problemOfPersistedQuery(extensions: unknown): string | null {
  if (!extensions || typeof extensions !== 'object' || !Object.hasOwn(extensions, 'persistedQuery')) return null;
  const pq = (extensions as { persistedQuery: unknown }).persistedQuery;
  if (pq === null || pq === undefined) return null;
  if (typeof pq !== 'object' || Array.isArray(pq))
    return 'extensions.persistedQuery must be an object { version: 1, sha256Hash }';
  const { version, sha256Hash } = pq as { version?: unknown; sha256Hash?: unknown };
  if (version !== 1) return 'Unsupported persisted query version; only version 1 is supported';
  if (typeof sha256Hash !== 'string' || !SHA256_HEX.test(sha256Hash))
    return 'extensions.persistedQuery.sha256Hash must be 64 lower-case hex digits';
  return null;
}
