/** Concurrent clients calling GET /user/{id} in a loop, each answer classified and recorded with its time. */
import { classifyAnswer } from './classifyAnswer';
import type { AnswerKind } from './timeline';

export interface TrafficOptions {
  apiUrl: string;
  clients: number;
  thinkMs: number;
  /** Which ids to ask for right now (changes with the script's phase). */
  userIds: () => readonly string[];
  onAnswer: (kind: AnswerKind, at: number) => void;
  /** ms since the demo started. */
  now: () => number;
  /** A request that takes longer than this counts as an error. */
  requestTimeoutMs: number;
}

export interface RunningTraffic {
  /** Stops the clients and resolves when every request in flight has ended. */
  stop(): Promise<void>;
}

export function startTraffic(options: TrafficOptions): RunningTraffic {
  let running = true;
  const pauses = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  const client = async (index: number): Promise<void> => {
    let n = index;
    while (running) {
      const ids = options.userIds();
      const id = ids[n++ % ids.length];
      let kind: AnswerKind;
      try {
        const response = await fetch(`${options.apiUrl}/user/${encodeURIComponent(id)}`, { signal: AbortSignal.timeout(options.requestTimeoutMs) });
        await response.arrayBuffer();
        kind = classifyAnswer(response.status, response.headers.get('x-user-source'));
      } catch {
        kind = 'error';
      }
      options.onAnswer(kind, options.now());
      if (running && options.thinkMs > 0) {
        await new Promise<void>((resolve) => {
          const pause = {
            timer: setTimeout(() => {
              pauses.delete(pause);
              resolve();
            }, options.thinkMs),
            resolve,
          };
          pauses.add(pause);
        });
      }
    }
  };
  const clients = Array.from({ length: options.clients }, (_, index) => client(index));
  return {
    stop: async () => {
      running = false;
      for (const pause of pauses) {
        clearTimeout(pause.timer);
        pause.resolve();
      }
      pauses.clear();
      await Promise.all(clients);
    },
  };
}
