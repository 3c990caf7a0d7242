/**
 * A pass-through HTTP proxy in front of the user-directory stub that sees every request reaching the downstream:
 * it counts them, tracks how many are in flight, and logs each one's [start, end) with the caller's
 * `x-bench-call-id` header, so the bench can later pick out which requests were half-open trials. It can also add
 * background noise: with `setFailFraction(p)` it answers a random fraction p of requests 503 itself, at once (the
 * noise scenario's "1% of calls fail").
 */
import { createServer, request as httpRequest, Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { epochNow } from './clock';
import { InFlightTracker } from './inFlight';

export const CALL_ID_HEADER = 'x-bench-call-id';

export interface MeteredRequest {
  callId?: string;
  /** epochNow() when the request arrived and when its answer was sent or the client went away. */
  start: number;
  end: number;
}

export interface RunningDownstreamMeter {
  url: string;
  inFlight: InFlightTracker;
  /** Requests that arrived since start. */
  requests(): number;
  /** Requests that arrived at or after `since` (epochNow() time). */
  requestsSince(since: number): number;
  /** Finished requests, in order of arrival. */
  log(): readonly MeteredRequest[];
  clearLog(): void;
  /** Answer this fraction (0..1) of requests 503 without forwarding them; `random` is injectable. Default 0. */
  setFailFraction(fraction: number, random?: () => number): void;
  /** Requests answered 503 by setFailFraction since start (or clearLog). */
  injectedFailures(): number;
  stop(): Promise<void>;
}

export async function startDownstreamMeter(targetUrl: string): Promise<RunningDownstreamMeter> {
  const target = new URL(targetUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const inFlight = new InFlightTracker();
  const arrivals: number[] = [];
  let finished: MeteredRequest[] = [];
  let failFraction = 0;
  let random: () => number = Math.random;
  let injected = 0;

  const forward = (req: IncomingMessage, res: ServerResponse): void => {
    const start = epochNow();
    arrivals.push(start);
    const exit = inFlight.enter();
    const header = req.headers[CALL_ID_HEADER];
    const callId = typeof header === 'string' ? header : undefined;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      exit();
      finished.push({ ...(callId === undefined ? {} : { callId }), start, end: epochNow() });
    };
    res.once('close', finish);
    if (failFraction > 0 && random() < failFraction) {
      injected += 1;
      req.resume();
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end('{"error":"injected background failure"}');
      return;
    }
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.once('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end('{"error":"downstream meter could not reach the stub"}');
    });
    req.pipe(upstream);
  };

  const server = createServer(forward);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    inFlight,
    requests: () => arrivals.length,
    requestsSince: (since) => arrivals.filter((at) => at >= since).length,
    log: () => finished,
    clearLog: () => {
      finished = [];
      arrivals.length = 0;
      injected = 0;
    },
    setFailFraction: (fraction, rng = Math.random) => {
      if (!(fraction >= 0 && fraction <= 1)) throw new RangeError(`fail fraction must be from 0 to 1, got ${fraction}`);
      failFraction = fraction;
      random = rng;
    },
    injectedFailures: () => injected,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}
