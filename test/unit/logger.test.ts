import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging/logger.js';

describe(createLogger.name, () => {
  it('drops the parameters a failed query carries, and redacts emails, passwords and tokens', () => {
    const lines: string[] = [];
    const out = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const err = Object.assign(
      new Error('Failed query: select * from users where email = $1\nparams: alice.secret@example.com,1'),
      {
        params: ['alice.secret@example.com', 1],
        cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      },
    );
    createLogger('info', {}, out).warn(
      {
        err,
        email: 'bob@example.test',
        variables: { input: { email: 'carol@example.test', password: 'pa55word' } },
        token: 't0k3n',
      },
      'database unavailable',
    );
    const text = lines.join('');
    expect(text).toContain('Failed query: select * from users');
    expect(text).toContain('ECONNREFUSED');
    expect(text).not.toMatch(/alice\.secret|bob@|carol@|pa55word|t0k3n/);
  });
});
