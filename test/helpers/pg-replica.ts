import { rmSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { postgresWorkspace } from './private-postgres.js';
import { freePort } from './services.js';

/** The role the app reads the replica with: it may read everything and write nothing. */
export const REPLICA_READER = 'eduflow_reader';

/**
 * A private Postgres primary and one streaming replica of it (`pg_basebackup -R`), from the
 * machine's binaries, in a temporary folder, on free ports. The app's replica URL uses a role
 * whose transactions are read-only, so a write that reached the replica would fail loudly
 * even before hot standby refused it. Start once per test file; `destroy` removes both.
 */
export async function startPrimaryWithReplica() {
  const { bin, dir, run, runAsync } = postgresWorkspace('eduflow-pgrep-');

  const [primaryPort, replicaPort] = [await freePort(), await freePort()];
  const primaryData = join(dir, 'primary');
  const replicaData = join(dir, 'replica');
  const startArgs = (data: string, port: number) => [
    '-D',
    data,
    '-o',
    `-p ${port} -k ${dir} -h 127.0.0.1 -c fsync=off -c hot_standby_feedback=on`,
    '-l',
    join(dir, `${port}.log`),
    '-w',
    'start',
  ];
  run(bin('initdb'), ['-D', primaryData, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  run(bin('pg_ctl'), startArgs(primaryData, primaryPort));
  const admin = postgres(`postgres://postgres@127.0.0.1:${primaryPort}/postgres`, { max: 1, onnotice: () => {} });
  await admin.unsafe('create database eduflow');
  await admin.unsafe(`create role ${REPLICA_READER} login in role pg_read_all_data`);
  await admin.unsafe(`alter role ${REPLICA_READER} set default_transaction_read_only = on`);
  await admin.end();
  run(bin('pg_basebackup'), [
    '-h',
    '127.0.0.1',
    '-p',
    String(primaryPort),
    '-U',
    'postgres',
    '-D',
    replicaData,
    '-R',
    '-X',
    'stream',
    // An immediate checkpoint, no fsync: a throwaway replica need not wait for either.
    '--checkpoint=fast',
    '--no-sync',
  ]);
  run(bin('pg_ctl'), startArgs(replicaData, replicaPort));

  /** A superuser connection to the replica: replay control and what it holds. */
  const replicaAdmin = postgres(`postgres://postgres@127.0.0.1:${replicaPort}/eduflow`, { max: 1, onnotice: () => {} });
  return {
    primaryUrl: `postgres://postgres@127.0.0.1:${primaryPort}/eduflow`,
    replicaUrl: `postgres://${REPLICA_READER}@127.0.0.1:${replicaPort}/eduflow`,
    replicaAdmin,
    /** Replay stops: the replica keeps answering with what it had (as a long-lagging one does). */
    pauseReplay: async () => void (await replicaAdmin`select pg_wal_replay_pause()`),
    resumeReplay: async () => void (await replicaAdmin`select pg_wal_replay_resume()`),
    /** Stops the replica at once (a crash); `startReplica` brings it back and it catches up. */
    stopReplica: async () => {
      await runAsync(bin('pg_ctl'), ['-D', replicaData, '-m', 'immediate', 'stop']);
    },
    startReplica: async () => void (await runAsync(bin('pg_ctl'), startArgs(replicaData, replicaPort))),
    async destroy() {
      await replicaAdmin.end({ timeout: 0 }).catch(() => {});
      for (const data of [replicaData, primaryData]) {
        try {
          run(bin('pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']);
        } catch {
          // not running
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type PrimaryWithReplica = Awaited<ReturnType<typeof startPrimaryWithReplica>>;
