/** After `npm run test:dynamodb-local`: every DynamoDB Local a suite started must have been stopped; a survivor is killed and fails the run. */
import { rmSync } from 'node:fs';
import { PID_DIR_VARIABLE, stillRunning } from './processRegistry';

export default function globalTeardown(): void {
  const directory = process.env[PID_DIR_VARIABLE];
  if (!directory) return;
  const survivors = stillRunning(directory);
  for (const { pid } of survivors) process.kill(pid, 'SIGKILL');
  rmSync(directory, { recursive: true, force: true });
  if (survivors.length > 0) {
    const list = survivors.map(({ pid, endpoint }) => `pid ${pid} (${endpoint})`).join(', ');
    throw new Error(`a suite did not stop the DynamoDB Local it started: ${list} was still running after the run (killed now)`);
  }
}
