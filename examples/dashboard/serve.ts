// `npm run example:dashboard`: serves the live instructor dashboard against a running API
// (`npm start` in another terminal). EDUFLOW_API_URL and DASHBOARD_PORT override the defaults.
import { startDashboard } from './server.js';

const apiUrl = process.env.EDUFLOW_API_URL ?? 'http://localhost:4000/graphql';
const port = Number(process.env.DASHBOARD_PORT ?? 5173);
try {
  const dashboard = await startDashboard({ apiUrl, port, host: 'localhost' });
  console.log(`EduFlow dashboard: ${dashboard.url} (API: ${apiUrl}); sign in with the demo instructor, prefilled.`);
  const stop = () => void dashboard.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (err) {
  const code = (err as NodeJS.ErrnoException).code;
  console.error(
    code === 'EADDRINUSE'
      ? `EduFlow dashboard: port ${port} is in use; set DASHBOARD_PORT to another port.`
      : `EduFlow dashboard: ${(err as Error).message}`,
  );
  process.exit(1);
}
