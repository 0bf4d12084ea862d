import { createApp } from './app.js';
import { routeConsoleToLogger } from './logging/console.js';
import type { Config } from './config/config.js';
import { exitOnSignals, loadConfigOrExit } from './process.js';
import { DEMO_ACCOUNTS, DEMO_PASSWORD } from './seed/demo-data.js';

/** API process: load config, build the app, listen, and shut down gracefully on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const app = await createApp(config);
  routeConsoleToLogger(app.log);
  const url = await app.listen();
  // Jobs in hand may need longer than HTTP requests when this process runs workers too.
  const limitMs =
    Math.max(config.http.shutdownGraceMs, config.notifications.workerInProcess ? config.jobs.drainMs : 0) + 5_000;
  // Before announcing the URL: a SIGTERM sent as soon as it appears must still shut down cleanly.
  exitOnSignals(app.log, 'API', limitMs, () => app.close());
  app.log.info({ url, database: app.database.kind }, 'ready: EduFlow API listening');
  printBanner(config, url);
}

function printBanner(config: Config, url: string): void {
  const lines = [
    '',
    `  EduFlow GraphQL API: ${url}`,
    config.graphql.landingPage
      ? '  Open it in a browser for the GraphQL explorer (served locally, works offline); Apollo Sandbox is at /sandbox.'
      : '',
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
