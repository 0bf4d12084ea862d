// Roles belong to authorization (tokens, the viewer, the @auth directive) as much as to the
// users table, so they live here, where auth/ and every module can import them without a cycle.
export const ROLES = ['ADMIN', 'INSTRUCTOR', 'STUDENT'] as const;
export type Role = (typeof ROLES)[number];
