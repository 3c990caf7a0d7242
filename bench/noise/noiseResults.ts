/** The noise scenario's result document (written as JSON) and the tables printed from it. */
import type { MachineInfo, VersionInfo } from '../machine';
import type { NoiseSettings, NoiseVariantResult, RampResult } from './noiseScenario';

export const NOISE_SCHEMA_VERSION = 1;

export interface NoiseResults {
  schemaVersion: typeof NOISE_SCHEMA_VERSION;
  scenario: 'noise';
  mode: 'full' | 'smoke';
  startedAt: string;
  durationMs: number;
  machine: MachineInfo;
  versions: VersionInfo;
  settings: NoiseSettings;
  variants: NoiseVariantResult[];
  ramp: RampResult[];
}

const percent = (part: number, whole: number): string => (whole === 0 ? '–' : `${((100 * part) / whole).toFixed(1)}%`);

/** The noise table (one row per opening rule) and the ramp table (one row per bin, one column per variant). */
export function renderNoiseTable(results: NoiseResults): string {
  const s = results.settings;
  const header = ['opening rule', 'calls', 'rejected', 'rejected %', 'opens', 'failures seen', 'DynamoDB requests per call', 'DynamoDB requests'];
  const lines = [
    `Noise: ${s.processes * s.instancesPerProcess} instances in ${s.processes} processes, one call at a time each, for ${s.noiseMs} ms; the directory answers in ~${s.healthyDelayMs} ms and fails ${(s.failFraction * 100).toFixed(1)}% of calls at random`,
    '',
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i === 0 ? ':---' : '---:')).join('|')}|`,
  ];
  for (const v of results.variants) {
    if (!v.available) {
      lines.push(`| ${v.label} | not available: ${v.unavailableReason ?? ''} | | | | | | |`);
      continue;
    }
    const requests = Object.entries(v.storeRequests).map(([operation, n]) => `${operation} ${n}`).join(' · ') || '0';
    lines.push(`| ${v.label} | ${v.calls} | ${v.rejected} | ${percent(v.rejected, v.calls)} | ${v.opens} | ${v.failures} | ${v.storeRequestsPerCall === null ? '–' : v.storeRequestsPerCall.toFixed(3)} | ${requests} |`);
  }

  const ran = results.ramp.filter((r) => r.available);
  lines.push('', `Admitted fraction of calls by time since the item read CLOSED (after an outage; no background failures)`, '');
  const rampHeader = ['ms since close', ...results.ramp.map((r) => r.label)];
  lines.push(`| ${rampHeader.join(' | ')} |`, `|${rampHeader.map((_, i) => (i === 0 ? ':---' : '---:')).join('|')}|`);
  const binCount = Math.max(0, ...ran.map((r) => r.bins.length));
  for (let i = 0; i < binCount; i += 1) {
    const bin = ran.find((r) => r.bins[i])?.bins[i];
    const cells = results.ramp.map((r) => {
      if (!r.available) return 'n/a';
      const b = r.bins[i];
      return b && b.fraction !== null ? `${b.fraction.toFixed(2)} (${b.admitted}/${b.calls})` : '–';
    });
    lines.push(`| ${bin ? `${bin.fromMs}–${bin.toMs}` : i} | ${cells.join(' | ')} |`);
  }
  for (const r of results.ramp) {
    if (!r.available) lines.push(`\n${r.label}: not available: ${r.unavailableReason ?? ''}`);
    else if (r.closedAfterHealMs === null) lines.push(`\n${r.label}: the circuit did not close in time; no bins`);
  }
  return lines.join('\n');
}
