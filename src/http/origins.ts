import type { Config } from '../config/config.js';

const LOCALHOST_ORIGIN = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/;
/** Where Apollo Sandbox (the development landing page) sends its requests from. */
const SANDBOX_ORIGINS = ['https://sandbox.embed.apollographql.com', 'https://studio.apollographql.com'];

/**
 * The one origin policy, for CORS and for WebSocket upgrades alike: CORS_ORIGINS (or any
 * localhost origin in development), plus Apollo Sandbox while the landing page is on. No
 * Origin header means a same-origin or non-browser client, which CORS does not concern.
 */
export function isOriginAllowed(config: Config, origin: string | undefined): boolean {
  if (!origin) return true;
  const { corsOrigins } = config.http;
  if (
    corsOrigins === 'localhost'
      ? LOCALHOST_ORIGIN.test(origin)
      : corsOrigins.includes(origin) || corsOrigins.includes('*')
  )
    return true;
  return config.graphql.landingPage && SANDBOX_ORIGINS.includes(origin);
}
