import { spawn, type ChildProcess } from 'node:child_process';

export interface RunningApi {
  child: ChildProcess;
  url: string;
  output: () => string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Runs the real entry point (`src/main.ts`, as `npm start` does) in its own process, with
 * exactly the environment given, and resolves once it prints its URL.
 */
export function spawnApi(env: Record<string, string>, timeoutMs = 90_000): Promise<RunningApi> {
  return spawnEntry('src/main.ts', /EduFlow GraphQL API: (http:\/\/\S+)/, env, timeoutMs);
}

/** Runs the worker entry point (`npm run worker`); `url` is empty. */
export function spawnWorker(env: Record<string, string>, timeoutMs = 90_000): Promise<RunningApi> {
  return spawnEntry('src/worker.ts', /EduFlow worker running()/, env, timeoutMs);
}

function spawnEntry(entry: string, ready: RegExp, env: Record<string, string>, timeoutMs: number): Promise<RunningApi> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${entry} did not start:\n${out}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = ready.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({
          child,
          url: match[1]!,
          output: () => out,
          stop: () => {
            child.kill('SIGTERM');
            return exited;
          },
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${entry} exited with ${code}:\n${out}`));
    });
  });
}
