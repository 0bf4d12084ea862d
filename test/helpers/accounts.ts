import { hashPassword } from '../../src/auth/passwords.js';
import type { Role, UserRow } from '../../src/db/schema.js';
import type { TestApp } from './test-app.js';

export const AUTH_FIELDS = 'accessToken accessTokenExpiresAt refreshToken user { id email role displayName }';

export const REGISTER = `mutation($input: RegisterInput!) { register(input: $input) { ${AUTH_FIELDS} } }`;
export const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { ${AUTH_FIELDS} } }`;
export const REFRESH = `mutation($t: String!) { refreshSession(input: { refreshToken: $t }) { ${AUTH_FIELDS} } }`;
export const LOGOUT = `mutation($t: String!) { logout(input: { refreshToken: $t }) }`;

let n = 0;
/** A unique, valid registration input. */
export function newAccount(overrides: Partial<{ email: string; password: string; displayName: string }> = {}) {
  n += 1;
  return {
    email: `person${n}-${Date.now().toString(36)}@example.test`,
    password: 'plum-kettle-harbour-42',
    displayName: `Person ${n}`,
    ...overrides,
  };
}

/** A user with a real password hash, for sign-in tests. */
export async function userWithPassword(t: TestApp, password: string, role: Role = 'STUDENT'): Promise<UserRow> {
  return t.make.user({ role, passwordHash: await hashPassword(password) });
}
