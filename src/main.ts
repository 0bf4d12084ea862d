import { createApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config/config.js';
import { DEMO_ACCOUNTS, DEMO_PASSWORD } from './seed/demo-data.js';

/** API process: load config, build the app, listen, and shut down gracefully on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }

  const app = await createApp(config);
  const url = await app.listen();
  app.log.info({ url, database: app.database.kind }, 'EduFlow API listening');
  printBanner(config, url);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      app.log.error('graceful shutdown timed out; exiting');
      process.exit(1);
    }, Math.max(config.http.shutdownGraceMs, config.notifications.workerInProcess ? config.jobs.drainMs : 0) + 5_000);
    force.unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

function printBanner(config: Config, url: string): void {
  const lines = [
    '',
    `  EduFlow GraphQL API: ${url}`,
    config.graphql.landingPage ? '  Open it in a browser for Apollo Sandbox (loads from Apollo\'s CDN).' : '',
    config.db.kind === 'pglite' ? `  Embedded mode: data in ${config.dataDir}, no Postgres or Redis needed.` : '',
  ];
  if (config.seedDemoData) {
    lines.push(
      '  Demo sign-ins (password for all: ' + DEMO_PASSWORD + '):',
      `    admin       ${DEMO_ACCOUNTS.admin}`,
      `    instructor  ${DEMO_ACCOUNTS.instructor}`,
      `    student     ${DEMO_ACCOUNTS.student}`,
    );
  }
  console.log(lines.filter(Boolean).join('\n') + '\n');
}

main().catch((err: unknown) => {
  console.error('EduFlow failed to start:', err);
  process.exit(1);
});
