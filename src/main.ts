import type { Config } from './config/config.js';
import { exitOnSignals, exitOnStartupFailure, loadConfigOrExit } from './process.js';
import { portFailure, preflight } from './startup/preflight.js';

/**
 * API process: load config, check what is in the way, build the app, listen, and shut down
 * gracefully on SIGTERM/SIGINT. The app's module graph (seconds to load) is imported only after
 * the checks, so a taken port or a missing database is reported at once.
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  await preflight(config, { port: true });
  const { createApp } = await import('./app.js');
  const { routeConsoleToLogger } = await import('./logging/console.js');
  const { DEMO_ACCOUNTS, DEMO_PASSWORD } = await import('./seed/demo-data.js');
  const app = await createApp(config);
  routeConsoleToLogger(app.log);
  const url = await app.listen().catch(async (err: unknown) => {
    await app.close(); // the port was taken between the check and now
    throw portFailure(err, config.http.port);
  });
  // Jobs in hand may need longer than HTTP requests when this process runs workers too.
  const limitMs =
    Math.max(config.http.shutdownGraceMs, config.notifications.workerInProcess ? config.jobs.drainMs : 0) + 5_000;
  // Before announcing the URL: a SIGTERM sent as soon as it appears must still shut down cleanly.
  exitOnSignals(app.log, 'API', limitMs, () => app.close());
  app.log.info({ url, database: app.database.kind }, 'ready: EduFlow API listening');
  printBanner(config, url, DEMO_ACCOUNTS, DEMO_PASSWORD);
}

function printBanner(
  config: Config,
  url: string,
  DEMO_ACCOUNTS: { admin: string; instructor: string; student: string },
  DEMO_PASSWORD: string,
): void {
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

main().catch(exitOnStartupFailure('EduFlow'));
