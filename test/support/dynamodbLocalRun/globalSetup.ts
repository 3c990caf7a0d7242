/**
 * Before `npm run test:dynamodb-local` runs any suite: fail at once, with one message, when Java is missing (rather
 * than every suite failing to start its server), choose the backend for every worker, and open the PID registry.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkJava, JavaMissingError } from '../../../local/dynamodbLocal';
import { PID_DIR_VARIABLE } from './processRegistry';

export default function globalSetup(): void {
  try {
    checkJava();
  } catch (error) {
    if (!(error instanceof JavaMissingError)) throw error;
    process.stderr.write(`\nnpm run test:dynamodb-local: ${error.message}\n\n`);
    process.exit(1);
  }
  // Workers are started after the global setup and inherit this environment.
  process.env.DYNAMODB_BACKEND = 'dynamodb-local';
  process.env[PID_DIR_VARIABLE] = mkdtempSync(path.join(os.tmpdir(), 'dynamodb-local-pids-'));
}
