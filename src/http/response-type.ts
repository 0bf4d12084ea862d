import { LRUCache } from 'lru-cache';
import Negotiator from 'negotiator';

/** Apollo's response types for a single result, in its order of preference (its MEDIA_TYPES). */
export const APPLICATION_JSON = 'application/json; charset=utf-8';
const SINGLE_RESULT_TYPES = [
  APPLICATION_JSON,
  'application/graphql-response+json; charset=utf-8',
  'application/json; callbackSpec=1.0; charset=utf-8',
];

/** Few distinct Accept headers are seen in practice; each is negotiated once. */
const types = new LRUCache<string, string>({ max: 256 });

/**
 * The type of a single-result response for this Accept header, exactly as Apollo chooses it
 * (`chooseContentTypeForSingleResultResponse`), or null when none is acceptable (Apollo's 406).
 * Remembered per header: negotiation parses the header and every offered type each time.
 */
export function responseTypeFor(accept: string | undefined): string | null {
  if (!accept) return APPLICATION_JSON;
  let type = types.get(accept);
  if (type === undefined) {
    const preferred = new Negotiator({ headers: { accept } }).mediaType(SINGLE_RESULT_TYPES);
    types.set(accept, (type = preferred ?? ''));
  }
  return type || null;
}
