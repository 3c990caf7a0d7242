/**
 * Watches one circuit's state item from outside the fleet: a strongly consistent GetItem every `pollMs` on a client
 * of the parent's own (straight to dynalite, so neither counted nor throttled by the proxy the fleet talks to),
 * keeping the time of every change of state.
 */
import { GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ATTR } from '../src/breaker/state';
import { epochNow } from './clock';

export interface StateChange {
  /** epochNow() of the first poll that saw `state` ("ABSENT" before the item exists). */
  at: number;
  state: string;
}

export interface StatePoller {
  /** Every change seen so far, in order. */
  timeline(): readonly StateChange[];
  /** Resolves with the time the item was first seen in one of `states` at or after `since`, or null after `timeoutMs`. */
  waitFor(states: readonly string[], since: number, timeoutMs: number): Promise<number | null>;
  stop(): Promise<void>;
}

/** The first time at or after `since` the timeline shows one of `states`. */
export function firstAtOrAfter(timeline: readonly StateChange[], states: readonly string[], since: number): number | null {
  // The state holding at `since` counts from `since` itself.
  let current: StateChange | undefined;
  for (const change of timeline) {
    if (change.at <= since) current = change;
    else break;
  }
  if (current && states.includes(current.state)) return since;
  const later = timeline.find((change) => change.at > since && states.includes(change.state));
  return later ? later.at : null;
}

export function pollState(client: DynamoDBClient, tableName: string, circuit: string, pollMs: number): StatePoller {
  const changes: StateChange[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const output = await client.send(new GetItemCommand({ TableName: tableName, Key: { id: { S: circuit } }, ConsistentRead: true }));
        const state = output.Item?.[ATTR.state]?.S ?? 'ABSENT';
        if (changes.at(-1)?.state !== state) changes.push({ at: epochNow(), state });
      } catch {
        // A missed poll only delays what the timeline sees.
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  })();
  return {
    timeline: () => changes,
    waitFor: async (states, since, timeoutMs) => {
      const deadline = epochNow() + timeoutMs;
      for (;;) {
        const found = firstAtOrAfter(changes, states, since);
        if (found !== null) return found;
        if (epochNow() >= deadline) return null;
        await new Promise((resolve) => setTimeout(resolve, pollMs));
      }
    },
    stop: async () => {
      running = false;
      await loop;
    },
  };
}
