import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildAppSchema, printSchemaSdl } from '../../src/schema.js';

// The shared API contract (../shared/contract, beside our own checkouts only) is checked by
// .ci/run when it is there; the project's own commands depend on nothing outside the repository.

describe('schema.graphql', () => {
  it('is exactly what the code emits (run `npm run schema:emit` after changing the schema)', async () => {
    const emitted = printSchemaSdl(await buildAppSchema());
    expect(readFileSync('schema.graphql', 'utf8')).toBe(emitted);
  });

  it('prints @auth on every guarded field', () => {
    const sdl0 = readFileSync('schema.graphql', 'utf8');
    expect(sdl0).toMatch(/\): LessonStatusChange! @auth$/m);
    expect(sdl0).toMatch(/enroll\(courseId: ID!\): Enrollment! @auth\(requires: \[STUDENT\]\)$/m);
    expect(sdl0).toMatch(/\): Course! @auth\(requires: \[INSTRUCTOR, ADMIN\]\)$/m);
    const sdl = readFileSync('schema.graphql', 'utf8');
    expect(sdl).toMatch(/^directive @auth\(allow: \[AuthRelation!\], requires: \[Role!\]\) on FIELD_DEFINITION$/m);
    expect(sdl).toMatch(/^\s+email: String @auth\(requires: \[ADMIN\], allow: \[SELF\]\)$/m);
    expect(sdl).toMatch(
      /^\s+content: String @auth\(requires: \[ADMIN\], allow: \[COURSE_INSTRUCTOR, ENROLLED_STUDENT\]\)$/m,
    );
    expect(sdl).toMatch(/\): EnrollmentConnection @auth\(requires: \[ADMIN\], allow: \[COURSE_INSTRUCTOR\]\)$/m);
    expect(sdl).toMatch(/\): EnrollmentConnection @auth\(requires: \[ADMIN\], allow: \[SELF\]\)$/m);
    expect(sdl).toMatch(/\): UserConnection! @auth\(requires: \[ADMIN\]\)$/m);
  });
});
