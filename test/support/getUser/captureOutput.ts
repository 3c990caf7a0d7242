/**
 * Captures what the process writes to stdout and stderr (Powertools' logger writes straight to them) and what goes
 * through the global console (the X-Ray SDK's and Powertools' warnings; Jest replaces the console with its own).
 */

export interface CapturedOutput {
  text(): string;
  /** Every line that parses as a JSON object. */
  jsonLines(): Record<string, unknown>[];
  restore(): void;
}

export function captureOutput(): CapturedOutput {
  const chunks: string[] = [];
  const originals = { stdout: process.stdout.write, stderr: process.stderr.write };
  const capture = (chunk: unknown, ...rest: unknown[]): boolean => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  };
  process.stdout.write = capture as typeof process.stdout.write;
  process.stderr.write = capture as typeof process.stderr.write;
  const consoleMethods = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;
  const consoleOriginals = consoleMethods.map((method) => console[method]);
  for (const method of consoleMethods) {
    console[method] = (...args: unknown[]) => {
      chunks.push(`${args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' ')}\n`);
    };
  }
  return {
    text: () => chunks.join(''),
    jsonLines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((line) => line.trim().startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    restore: () => {
      process.stdout.write = originals.stdout;
      process.stderr.write = originals.stderr;
      consoleMethods.forEach((method, index) => (console[method] = consoleOriginals[index]));
    },
  };
}
