/** The demo's result: one HTML file with the SVG inline and no outside resources, to open from disk or attach. */
import { escapeXml, renderTimelineSvg, transitionLabel } from './svgTimeline';
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
    .map((t) => {
      const meaning = transitionLabel(t.from, t.to) || 'probing';
      return `<li>${(t.at / 1000).toFixed(1)} s: ${escapeXml(t.from)} → <strong>${escapeXml(t.to)}</strong> (${escapeXml(meaning)}${t.reason ? `; reason: ${escapeXml(t.reason)}` : ''})</li>`;
    })
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
<p>GET /user/{id} under steady traffic from a few clients while the user directory goes down, turns slow and heals
(the phases along the top). <strong>Bars</strong>: answers per second by kind: fresh from the directory, the cached
copy, rejected with 503 (a user with no cached copy), any other error. <strong>Background</strong>: the breaker
state shared by every GetUser container (the DynamoDB item), from the transitions the containers log; a black line
marks each transition.</p>
<p><strong>How to read it.</strong> The breaker <em>opens</em> (red) after a few failures: from then on callers get
the cached copy at once instead of waiting on the directory. When an open period ends, one call is let through as a
<em>probe</em> (yellow, half-open; a probe that fails at once is a thin stripe, one that times out is wider). A failed
probe re-opens the breaker for longer (backoff). Once the directory answers again, successful probes
<em>close</em> it (green) and answers are fresh again; a container that cached the open state sees the close
within its state cache time (<code>stateCacheMs</code>, 1 s), so a few cached answers trail the close.</p>
${renderTimelineSvg(timeline)}
<p class="totals">${ANSWER_KINDS.map((kind) => `<span>${kind}: ${totals[kind]}</span>`).join('')}</p>
<h2>Script</h2>
<ol>${input.script.map((line) => `<li>${escapeXml(line)}</li>`).join('\n')}</ol>
<h2>Transitions</h2>
<ul>${transitions || '<li>none</li>'}</ul>
<h2>Breaker settings</h2>
<p>serverless.yml params, overridden for the demo so the incident fits in under a minute.</p>
<table>${settings}</table>
<p>Generated ${escapeXml(input.generatedAt.toISOString())} by <code>npm run demo</code>.</p>
</body>
</html>
`;
}
