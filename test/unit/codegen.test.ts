import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { generate } from '@graphql-codegen/cli';
import { describe, expect, it } from 'vitest';
import config from '../../codegen.js';

describe('typed client operations (codegen.ts)', () => {
  it('examples/generated is what `npm run codegen` makes from schema.graphql and the example operations', async () => {
    const outputs = (await generate({ ...config, silent: true }, false)) as Array<{
      filename: string;
      content: string;
    }>;
    expect(outputs.map((o) => o.filename).sort()).toEqual([
      'examples/generated/gql.ts',
      'examples/generated/graphql.ts',
      'examples/generated/index.ts',
    ]);
    for (const { filename, content } of outputs) {
      expect(readFileSync(filename, 'utf8'), `${filename} is out of date: run npm run codegen`).toBe(content);
    }
  }, 60_000);

  it('maps DateTime to string', () => {
    const types = readFileSync('examples/generated/graphql.ts', 'utf8');
    expect(types).toContain('scheduledAt: string | null');
    expect(types).toContain('changedAt: string,');
  });

  it('examples/relay/__generated__ is what `npm run relay` (relay-compiler) makes', async () => {
    const result = await new Promise<{ code: number; out: string }>((resolve) =>
      execFile('npx', ['relay-compiler', '--validate'], { timeout: 60_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
      ),
    );
    expect(result, 'Relay artifacts are out of date: run npm run relay').toMatchObject({ code: 0 });
  }, 60_000);
});
