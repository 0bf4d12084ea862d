import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { buildAppSchema, printSchemaSdl } from '../../src/schema.js';

const CONTRACT_CHECK = '../shared/contract/check-schema.mjs';

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
    expect(sdl).toMatch(/^\s+content: String @auth\(requires: \[ADMIN\], allow: \[COURSE_INSTRUCTOR, ENROLLED_STUDENT\]\)$/m);
    expect(sdl).toMatch(/\): EnrollmentConnection @auth\(requires: \[ADMIN\], allow: \[COURSE_INSTRUCTOR\]\)$/m);
    expect(sdl).toMatch(/\): EnrollmentConnection @auth\(requires: \[ADMIN\], allow: \[SELF\]\)$/m);
    expect(sdl).toMatch(/\): UserConnection! @auth\(requires: \[ADMIN\]\)$/m);
  });

  it('is compatible with the API contract (node ../shared/contract/check-schema.mjs passes)', async () => {
    expect(existsSync(CONTRACT_CHECK), `${CONTRACT_CHECK} must sit beside the project`).toBe(true);
    const run = promisify(execFile);
    const result = await run('node', [CONTRACT_CHECK, 'schema.graphql']).then(
      (r) => ({ code: 0, stdout: r.stdout }),
      (e: { stdout: string; code: number }) => ({ code: e.code, stdout: e.stdout }),
    );
    // Exit 0 = compatible; 1 lists incompatibilities (shown by the failure); 2 = the check broke.
    expect(result).toEqual({ code: 0, stdout: expect.stringContaining('compatible') });
  });
});
