/** The demo's result: one HTML file with the SVG inline and no outside resources, to open from disk or attach. */
import { escapeXml, renderTimelineSvg } from './svgTimeline';
import { ANSWER_KINDS, emptyCounts, type Timeline } from './timeline';

export interface IncidentPageInput {
  timeline: Timeline;
  generatedAt: Date;
  /** What the breaker was configured with, shown under the chart, e.g. { openMs: '2000' }. */
  breakerSettings: Record<string, string>;
  /** One line per scripted phase, e.g. "directory down: the directory answers 503". */
  script: string[];
}

export function renderIncidentPage(input: IncidentPageInput): string {
  const { timeline } = input;
  const totals = emptyCounts();
  for (const bucket of timeline.buckets) for (const kind of ANSWER_KINDS) totals[kind] += bucket[kind];
  const transitions = timeline.transitions
    .map((t) => `<li>${(t.at / 1000).toFixed(1)} s: ${escapeXml(t.from)} → <strong>${escapeXml(t.to)}</strong></li>`)
    .join('\n');
  const settings = Object.entries(input.breakerSettings)
    .map(([name, value]) => `<tr><td>${escapeXml(name)}</td><td>${escapeXml(value)}</td></tr>`)
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Circuit breaker incident demo</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1040px; color: #212121; padding: 0 1rem; }
  h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
  svg { max-width: 100%; height: auto; border: 1px solid #e0e0e0; }
  table { border-collapse: collapse; } td { padding: 2px 12px 2px 0; }
  .totals span { margin-right: 1.5rem; }
</style>
</head>
<body>
<h1>Circuit breaker incident demo</h1>
<p>GET /user/{id} under steady traffic while the user directory goes down, turns slow and heals.
Bars: answers per second by kind (fresh from the directory, cached copy, rejected with 503, other error).
Background: the breaker state as stored in DynamoDB; black lines mark each transition.
Generated ${escapeXml(input.generatedAt.toISOString())}.</p>
${renderTimelineSvg(timeline)}
<p class="totals">${ANSWER_KINDS.map((kind) => `<span>${kind}: ${totals[kind]}</span>`).join('')}</p>
<h2>Script</h2>
<ol>${input.script.map((line) => `<li>${escapeXml(line)}</li>`).join('\n')}</ol>
<h2>Transitions</h2>
<ul>${transitions || '<li>none</li>'}</ul>
<h2>Breaker settings</h2>
<table>${settings}</table>
</body>
</html>
`;
}
