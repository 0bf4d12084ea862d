import { AppError } from '../errors/app-error.js';
import type { Role } from './role.js';

/** Who is asking. Built once per request (or per WebSocket connection) from the access token. */
export interface Viewer {
  readonly userId: string | null;
  readonly role: Role | null;
  /** The refresh-session family the access token was issued for. */
  readonly sessionId: string | null;
  readonly tokenExpiresAt: Date | null;
  /** The access token's `iat` (seconds), for the revocation check. */
  readonly issuedAt?: number;
}

export interface SignedInViewer extends Viewer {
  readonly userId: string;
  readonly role: Role;
}

export const ANONYMOUS: Viewer = Object.freeze({ userId: null, role: null, sessionId: null, tokenExpiresAt: null });

export function isSignedIn(viewer: Viewer): viewer is SignedInViewer {
  return viewer.userId !== null && viewer.role !== null;
}

export function requireSignedIn(viewer: Viewer): SignedInViewer {
  if (!isSignedIn(viewer)) throw AppError.unauthenticated();
  return viewer;
}

export function requireRole(viewer: Viewer, ...roles: Role[]): SignedInViewer {
  const v = requireSignedIn(viewer);
  if (!roles.includes(v.role)) throw AppError.forbidden(`Requires role ${roles.join(' or ')}`);
  return v;
}
