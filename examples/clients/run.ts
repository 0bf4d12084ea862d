// `npm run example:recipes`: runs the four client recipes against a running API (`npm start`
// in another terminal), signed in as the demo instructor. EDUFLOW_API_URL, EDUFLOW_EMAIL and
// EDUFLOW_PASSWORD override the defaults.
import { runClientTour } from './tour.js';

try {
  await runClientTour({
    apiUrl: process.env.EDUFLOW_API_URL ?? 'http://localhost:4000/graphql',
    email: process.env.EDUFLOW_EMAIL ?? 'ada@eduflow.local',
    password: process.env.EDUFLOW_PASSWORD ?? 'eduflow-demo-password',
    log: (line) => console.log(line),
  });
} catch (err) {
  console.error(`client recipes: ${(err as Error).message} (is the API running? npm start)`);
  process.exitCode = 1;
}
