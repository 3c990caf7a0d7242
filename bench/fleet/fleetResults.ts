/** The fleet scenario's result document (written as JSON) and the table printed from it. */
import type { MachineInfo, VersionInfo } from '../machine';
import type { ProxyCounts } from '../throttlingProxy';
import type { FleetSettings, FleetVariantResult } from './fleetScenario';

export const FLEET_SCHEMA_VERSION = 1;

export interface FleetResults {
  schemaVersion: typeof FLEET_SCHEMA_VERSION;
  scenario: 'fleet';
  mode: 'full' | 'smoke';
  startedAt: string;
  durationMs: number;
  machine: MachineInfo;
  versions: VersionInfo;
  settings: FleetSettings;
  variants: FleetVariantResult[];
}

/** "Get 812 (thr 301) · Update 40 (thr 2, drop 3)": requests per operation at the proxy, with throttled and dropped. */
export function describeProxyCounts(counts: ProxyCounts): string {
  const parts = Object.entries(counts)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([operation, c]) => {
      const extra = [c.throttled > 0 ? `thr ${c.throttled}` : '', c.dropped > 0 ? `drop ${c.dropped}` : ''].filter(Boolean).join(', ');
      return `${operation.replace(/Item$/, '')} ${c.requests}${extra ? ` (${extra})` : ''}`;
    });
  return parts.length > 0 ? parts.join(' · ') : '0';
}

function describeCounts(counts: Record<string, number>): string {
  const parts = Object.entries(counts)
    .sort(([, a], [, b]) => b - a)
    .map(([name, n]) => `${name} ${n}`);
  return parts.length > 0 ? parts.join(' · ') : '–';
}

const ms = (value: number | null): string => (value === null ? 'never' : String(value));

/** Two Markdown tables: per variant and phase, then per variant the times to open and close. */
export function renderFleetTable(results: FleetResults): string {
  const s = results.settings;
  const first = results.variants[0];
  const header = ['variant', 'phase', 'ms', 'calls', 'rejected', 'DynamoDB requests at the proxy (thr = throttled, drop = unreachable)', 'calls at the directory', 'most by one instance', 'peak trials', 'opens (item / events)', 'store errors'];
  const lines = [
    `Fleet: ${s.processes * s.instancesPerProcess} instances in ${s.processes} processes; item limits ${first ? first.limits.readUnitsPerSecond.toFixed(1) : '?'} RCU/s and ${first ? first.limits.writeUnitsPerSecond.toFixed(1) : '?'} WCU/s (${s.model.containers.toLocaleString('en-US')} containers vs ${s.model.readUnitsPerSecond.toLocaleString('en-US')} RCU and ${s.model.writeUnitsPerSecond.toLocaleString('en-US')} WCU, scaled)`,
    '',
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i < 2 ? ':---' : '---:')).join('|')}|`,
  ];
  for (const variant of results.variants) {
    if (!variant.available) {
      lines.push(`| ${variant.label} | not available | | | | ${variant.unavailableReason ?? ''} | | | | | |`);
      continue;
    }
    for (const phase of variant.phases) {
      lines.push(
        `| ${variant.label} | ${phase.phase} | ${phase.durationMs} | ${phase.calls} | ${phase.rejections} | ${describeProxyCounts(phase.dynamo)} | ${phase.downstreamCalls} | ${phase.maxDownstreamCallsPerInstance} | ${phase.maxTrialsInFlight} | ${phase.itemOpens} / ${phase.opens} | ${describeCounts(phase.storeErrorsByCause)} |`,
      );
    }
  }
  const summary = ['variant', 'ms from death until the item reads OPEN', 'state at the heal', 'ms from heal until it reads CLOSED', 'requests at the proxy', 'requests the SDK sent', 'load average (start, end)'];
  lines.push('', `| ${summary.join(' | ')} |`, `|${summary.map((_, i) => (i === 0 ? ':---' : '---:')).join('|')}|`);
  for (const variant of results.variants) {
    if (!variant.available) lines.push(`| ${variant.label} | not available | | | | | |`);
    else {
      const close = variant.stateAtHeal === 'CLOSED' || variant.stateAtHeal === 'ABSENT' ? 'was not open' : ms(variant.timeToCloseMs);
      lines.push(`| ${variant.label} | ${ms(variant.timeToOpenMs)} | ${variant.stateAtHeal} | ${close} | ${variant.proxyRequests} | ${variant.sdkRequests} | ${variant.loadAverage.atStart.toFixed(1)}, ${variant.loadAverage.atEnd.toFixed(1)} |`);
    }
  }
  return lines.join('\n');
}
