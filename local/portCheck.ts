/**
 * `npm start`'s ports, checked before anything starts: a port another process holds (often a second `npm start`)
 * becomes one line naming the variable that sets it, not an EADDRINUSE stack from deep inside a server.
 */
import { createServer } from 'node:net';

export interface NamedPort {
  /** The environment variable that sets it, e.g. USER_DIRECTORY_PORT. */
  variable: string;
  /** 0 (pick a free one) is never checked. */
  port: number;
}

export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
}

/** Resolves when every given port can be listened on at 127.0.0.1; rejects with PortInUseError naming the first that cannot. */
export async function checkPortsFree(ports: readonly NamedPort[]): Promise<void> {
  for (const { variable, port } of ports) {
    if (port === 0) continue;
    const problem = await listenProblem(port);
    if (problem === 'EADDRINUSE') {
      throw new PortInUseError(
        `port ${port} (${variable}) is already in use, perhaps by another npm start: stop that, or set ${variable} to a free port (0 picks one)`,
      );
    }
    if (problem !== undefined) throw new PortInUseError(`port ${port} (${variable}) cannot be listened on (${problem}): set ${variable} to another port`);
  }
}

function listenProblem(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(undefined)));
  });
}
