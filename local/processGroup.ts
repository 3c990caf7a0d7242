/**
 * Stopping a child process together with everything it started: the child is spawned as the leader of its own
 * process group (`detached: true`), and the whole group is signalled.
 */
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** How long the group may take to exit after SIGTERM before it is killed. */
const STOP_GRACE_MS = 5_000;
/** How often to look for survivors after SIGKILL; the kernel gives no event for a non-child's death. */
const SURVIVOR_CHECK_MS = 20;

/**
 * The ids of the living processes in the group (zombies count as dead: they wait only to be reaped by init).
 * Read from /proc, so Linux only; elsewhere returns undefined.
 */
export function livingGroupMembers(groupId: number): number[] | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return undefined;
  }
  const members: number[] = [];
  for (const pid of entries) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // "pid (comm) state ppid pgrp ...": comm may contain spaces and parentheses, so parse after the last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === groupId && state !== 'Z' && state !== 'X') members.push(Number(pid));
  }
  return members;
}

export function signalGroup(groupId: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-groupId, signal);
  } catch (error) {
    // ESRCH: the whole group is already gone.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** SIGTERM to the group, SIGKILL after a grace period, and back only when no process of the group lives. */
export async function stopProcessGroup(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  const groupId = child.pid;
  if (groupId === undefined) return;
  signalGroup(groupId, 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<'grace-over'>((resolve) => (timer = setTimeout(() => resolve('grace-over'), STOP_GRACE_MS)));
  const outcome = await Promise.race([exited, graceOver]);
  clearTimeout(timer);
  if (outcome === 'grace-over') signalGroup(groupId, 'SIGKILL');
  await exited;
  // The leader exiting does not end the rest of its group (esbuild's service process).
  signalGroup(groupId, 'SIGKILL');
  const deadline = Date.now() + STOP_GRACE_MS;
  while ((livingGroupMembers(groupId)?.length ?? 0) > 0) {
    if (Date.now() > deadline) throw new Error(`processes ${livingGroupMembers(groupId)?.join(', ')} of group ${groupId} survived SIGKILL`);
    await new Promise((resolve) => setTimeout(resolve, SURVIVOR_CHECK_MS));
  }
}
