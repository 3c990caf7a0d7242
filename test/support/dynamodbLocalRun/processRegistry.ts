/**
 * The DynamoDB Local processes a `npm run test:dynamodb-local` run started and has not stopped yet: one file per PID
 * (holding the endpoint) in the directory named by DYNAMODB_LOCAL_PID_DIR. Suites start their servers in Jest
 * workers; the run's global teardown, in the parent process, reads this to prove that none was left behind.
 * Outside that run the variable is unset and nothing is recorded.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const PID_DIR_VARIABLE = 'DYNAMODB_LOCAL_PID_DIR';

export interface RecordedProcess {
  pid: number;
  endpoint: string;
}

export function recordStarted(pid: number, endpoint: string): void {
  const directory = process.env[PID_DIR_VARIABLE];
  if (directory) writeFileSync(path.join(directory, String(pid)), endpoint);
}

export function recordStopped(pid: number): void {
  const directory = process.env[PID_DIR_VARIABLE];
  if (directory) rmSync(path.join(directory, String(pid)), { force: true });
}

/** Recorded processes that are still running. */
export function stillRunning(directory: string): RecordedProcess[] {
  return readdirSync(directory)
    .map((file) => ({ pid: Number(file), endpoint: readFileSync(path.join(directory, file), 'utf8') }))
    .filter(({ pid }) => isDynamoDBLocal(pid));
}

function isDynamoDBLocal(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // The PID may have been reused by an unrelated process since.
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('DynamoDBLocal');
  } catch {
    return true; // no /proc (macOS): the PID is alive, which is all we can know
  }
}
