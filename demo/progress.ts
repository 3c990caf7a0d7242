/** The live line in the terminal: time, phase, breaker state, answers per second by kind. */
import { ANSWER_KINDS, type AnswerCounts } from './timeline';

export function progressLine(input: { atMs: number; phase: string; state: string | undefined; perSecond: AnswerCounts }): string {
  const rates = ANSWER_KINDS.map((kind) => `${kind} ${String(Math.round(input.perSecond[kind])).padStart(3)}/s`).join('  ');
  return `[${(input.atMs / 1000).toFixed(1).padStart(5)} s] ${input.phase.padEnd(16)} breaker ${(input.state ?? '?').padEnd(9)} ${rates}`;
}

/** Rewrites one line on a terminal; prints one line per update elsewhere (CI logs, tests). */
export function createProgressWriter(stream: NodeJS.WriteStream = process.stdout): { update(line: string): void; done(): void } {
  const tty = Boolean(stream.isTTY);
  let wrote = false;
  return {
    update: (line) => {
      stream.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
      wrote = true;
    },
    done: () => {
      if (tty && wrote) stream.write('\n');
    },
  };
}
