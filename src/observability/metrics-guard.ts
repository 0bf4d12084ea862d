import { timingSafeEqual } from 'node:crypto';
import type { Config } from '../config/config.js';

/** Whether a /metrics request is served: 200, 401 (no or wrong token) or 404 (not served at all). */
export type MetricsAccess = 200 | 401 | 404;

/**
 * The one rule for /metrics, in the API and the worker alike. The metrics (operation names,
 * error rates, queue depths) are for the scraper: in production they are not served without
 * METRICS_TOKEN, and with one only to `Authorization: Bearer <token>`, compared in constant time
 * (a `!==` answers sooner the earlier the first wrong byte, which leaks the token byte by byte).
 */
export function metricsAccess(
  config: Pick<Config, 'isProduction' | 'metricsToken'>,
  authorization: string | undefined,
): MetricsAccess {
  if (!config.metricsToken) return config.isProduction ? 404 : 200;
  const given = Buffer.from(authorization ?? '');
  const expected = Buffer.from(`Bearer ${config.metricsToken}`);
  return given.length === expected.length && timingSafeEqual(given, expected) ? 200 : 401;
}
