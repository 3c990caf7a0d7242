/**
 * The incident as one self-contained SVG: answers per second by kind as stacked bars, the breaker state as
 * coloured bands behind them, each state transition marked with a line (and, above the plot, what it means:
 * opened, probe failed, closed), the script's phases along the top, axes in seconds and answers per second, and a
 * legend. Pure: a Timeline in, a string out.
 */
import { ANSWER_KINDS, type AnswerKind, type Timeline } from './timeline';

export const ANSWER_COLOURS: Record<AnswerKind, string> = {
  fresh: '#2e7d32',
  cached: '#1565c0',
  rejected: '#ef6c00',
  error: '#c62828',
};

export const STATE_COLOURS: Record<string, string> = {
  CLOSED: '#c8e6c9',
  OPEN: '#ffcdd2',
  HALF_OPEN: '#fff3c4',
  FORCED_OPEN: '#e1bee7',
  DISABLED: '#cfd8dc',
};
const UNKNOWN_STATE_COLOUR = '#eeeeee';

/** What each kind and state means, in the legend. */
const ANSWER_MEANINGS: Record<AnswerKind, string> = {
  fresh: 'fresh: 200, from directory',
  cached: 'cached: 200, stored copy',
  rejected: 'rejected: 503, no copy',
  error: 'error: anything else',
};
const STATE_MEANINGS: Record<string, string> = {
  CLOSED: 'CLOSED: calls pass',
  OPEN: 'OPEN: calls rejected',
  HALF_OPEN: 'HALF_OPEN: probing',
};

/** A state that lasted only milliseconds (a probe that failed at once) is still drawn this wide. */
export const MIN_BAND_PX = 3;

/** What a transition means to someone watching, shown above the plot. OPEN -> HALF_OPEN is the band itself. */
export function transitionLabel(from: string, to: string): string {
  if (to === 'OPEN' && from === 'HALF_OPEN') return 'probe failed';
  if (to === 'OPEN') return 'opened';
  if (to === 'HALF_OPEN' && from === 'OPEN') return '';
  if (to === 'CLOSED' && from === 'HALF_OPEN') return 'closed';
  return `→ ${to}`;
}

export interface SvgOptions {
  width?: number;
  height?: number;
}

const MARGIN = { left: 60, right: 225, top: 84, bottom: 48 };
/** Rows above the plot for transition labels, so labels close in time do not overwrite each other. */
const LABEL_ROWS = 3;
const LABEL_ROW_HEIGHT = 14;
/** Rough width of a character at font-size 12, to keep labels apart. */
const CHAR_PX = 6.5;

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** A round step (1, 2 or 5 times a power of ten) that cuts [0, max] into about `target` pieces. */
export function niceStep(max: number, target: number): number {
  if (!(max > 0)) return 1;
  const raw = max / target;
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * power).find((candidate) => candidate >= raw) ?? 10 * power;
  return step;
}

const num = (value: number): string => String(Math.round(value * 10) / 10);

export function renderTimelineSvg(timeline: Timeline, options: SvgOptions = {}): string {
  const width = options.width ?? 1000;
  const height = options.height ?? 480;
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const plotHeight = height - MARGIN.top - MARGIN.bottom;
  const durationMs = Math.max(timeline.durationMs, timeline.bucketMs);
  const perSecond = 1000 / timeline.bucketMs;
  const rates = timeline.buckets.map((counts) => ANSWER_KINDS.reduce((sum, kind) => sum + counts[kind], 0) * perSecond);
  const yStep = niceStep(Math.max(1, ...rates), 5);
  const yMax = Math.max(yStep, Math.ceil(Math.max(1, ...rates) / yStep) * yStep);
  const x = (ms: number): number => MARGIN.left + (Math.min(Math.max(ms, 0), durationMs) / durationMs) * plotWidth;
  const y = (rate: number): number => MARGIN.top + plotHeight - (rate / yMax) * plotHeight;
  const bottom = MARGIN.top + plotHeight;
  const parts: string[] = [];

  parts.push(`<rect class="plot" x="${MARGIN.left}" y="${MARGIN.top}" width="${num(plotWidth)}" height="${num(plotHeight)}" fill="#fafafa" stroke="#9e9e9e"/>`);

  // Bands in time order; one narrower than MIN_BAND_PX is widened and pushes the next one's start.
  const plotRight = MARGIN.left + plotWidth;
  let bandCursor = MARGIN.left;
  for (const band of timeline.bands) {
    const colour = STATE_COLOURS[band.state] ?? UNKNOWN_STATE_COLOUR;
    const left = Math.min(Math.max(x(band.from), bandCursor), plotRight);
    const right = Math.min(Math.max(x(band.to), left + MIN_BAND_PX), plotRight);
    bandCursor = right;
    parts.push(
      `<rect class="band" data-state="${escapeXml(band.state)}" x="${num(left)}" y="${MARGIN.top}" width="${num(right - left)}" height="${num(plotHeight)}" fill="${colour}"><title>${escapeXml(band.state)} ${num(band.from / 1000)}–${num(band.to / 1000)} s</title></rect>`,
    );
  }

  // Horizontal grid and y axis.
  for (let rate = 0; rate <= yMax + 1e-9; rate += yStep) {
    parts.push(`<line class="grid" x1="${MARGIN.left}" x2="${num(MARGIN.left + plotWidth)}" y1="${num(y(rate))}" y2="${num(y(rate))}" stroke="#000" stroke-opacity="0.08"/>`);
    parts.push(`<text class="y-tick" x="${MARGIN.left - 6}" y="${num(y(rate) + 4)}" text-anchor="end">${num(rate)}</text>`);
  }
  parts.push(`<text class="axis-label" transform="translate(16 ${num(MARGIN.top + plotHeight / 2)}) rotate(-90)" text-anchor="middle">answers per second</text>`);

  // Stacked bars, one per bucket.
  const barWidth = (timeline.bucketMs / durationMs) * plotWidth;
  timeline.buckets.forEach((counts, index) => {
    let stacked = 0;
    for (const kind of ANSWER_KINDS) {
      if (counts[kind] === 0) continue;
      const rate = counts[kind] * perSecond;
      const top = y(stacked + rate);
      parts.push(
        `<rect class="bar bar-${kind}" x="${num(x(index * timeline.bucketMs) + 0.5)}" y="${num(top)}" width="${num(Math.max(0.5, barWidth - 1))}" height="${num(y(stacked) - top)}" fill="${ANSWER_COLOURS[kind]}"/>`,
      );
      stacked += rate;
    }
  });

  // X axis in seconds.
  const xStep = niceStep(durationMs / 1000, 10);
  for (let second = 0; second <= durationMs / 1000 + 1e-9; second += xStep) {
    const at = x(second * 1000);
    parts.push(`<line class="x-tick" x1="${num(at)}" x2="${num(at)}" y1="${bottom}" y2="${bottom + 5}" stroke="#616161"/>`);
    parts.push(`<text class="x-tick-label" x="${num(at)}" y="${bottom + 18}" text-anchor="middle">${num(second)}</text>`);
  }
  parts.push(`<text class="axis-label" x="${num(MARGIN.left + plotWidth / 2)}" y="${height - 8}" text-anchor="middle">seconds since the traffic started</text>`);

  // Scripted phases along the top.
  const phaseY = 14;
  for (const phase of timeline.phases) {
    parts.push(`<line class="phase" x1="${num(x(phase.from))}" x2="${num(x(phase.from))}" y1="${phaseY - 10}" y2="${bottom}" stroke="#424242" stroke-dasharray="2 3"/>`);
    parts.push(`<text class="phase-label" x="${num(x(phase.from) + 4)}" y="${phaseY}" font-weight="600">${escapeXml(phase.name)}</text>`);
  }

  // Transitions: a line through the plot, a triangle on its top edge, and what it means in the rows above.
  const rowEnds: number[] = Array.from({ length: LABEL_ROWS }, () => -Infinity);
  const firstRowY = MARGIN.top - 8 - (LABEL_ROWS - 1) * LABEL_ROW_HEIGHT;
  for (const transition of timeline.transitions) {
    const at = x(transition.at);
    const label = transitionLabel(transition.from, transition.to);
    let labelSvg = '';
    if (label) {
      // The first row where the label fits after the previous one; else the row that frees up first.
      const free = rowEnds.findIndex((end) => end + 4 <= at);
      const row = free >= 0 ? free : rowEnds.indexOf(Math.min(...rowEnds));
      rowEnds[row] = at + 3 + label.length * CHAR_PX;
      const labelY = firstRowY + row * LABEL_ROW_HEIGHT;
      labelSvg =
        `<line x1="${num(at)}" x2="${num(at)}" y1="${num(labelY - 10)}" y2="${MARGIN.top}" stroke="#212121" stroke-opacity="0.35"/>` +
        `<text x="${num(at + 3)}" y="${num(labelY)}" class="transition-label">${escapeXml(label)}</text>`;
    }
    parts.push(
      `<g class="transition" data-from="${escapeXml(transition.from)}" data-to="${escapeXml(transition.to)}"><title>${escapeXml(transition.from)} → ${escapeXml(transition.to)} at ${num(transition.at / 1000)} s${transition.reason ? ` (${escapeXml(transition.reason)})` : ''}</title>` +
        `<line x1="${num(at)}" x2="${num(at)}" y1="${MARGIN.top}" y2="${bottom}" stroke="#212121" stroke-width="1.2"/>` +
        `<path d="M${num(at - 4)},${MARGIN.top} L${num(at + 4)},${MARGIN.top} L${num(at)},${MARGIN.top + 7} Z" fill="#212121"/>` +
        labelSvg +
        '</g>',
    );
  }

  // Legend.
  const legendX = MARGIN.left + plotWidth + 16;
  let legendY = MARGIN.top + 4;
  parts.push(`<text class="legend-title" x="${legendX}" y="${legendY}" font-weight="600">answers (bars)</text>`);
  for (const kind of ANSWER_KINDS) {
    legendY += 18;
    parts.push(`<rect class="legend-swatch" x="${legendX}" y="${legendY - 10}" width="12" height="12" fill="${ANSWER_COLOURS[kind]}"/><text x="${legendX + 18}" y="${legendY}">${ANSWER_MEANINGS[kind]}</text>`);
  }
  legendY += 30;
  parts.push(`<text class="legend-title" x="${legendX}" y="${legendY}" font-weight="600">breaker state (background)</text>`);
  const states = [...new Set([...Object.keys(STATE_MEANINGS), ...timeline.bands.map((band) => band.state)])];
  for (const state of states) {
    legendY += 18;
    parts.push(`<rect class="legend-swatch" x="${legendX}" y="${legendY - 10}" width="12" height="12" fill="${STATE_COLOURS[state] ?? UNKNOWN_STATE_COLOUR}" stroke="#9e9e9e"/><text x="${legendX + 18}" y="${legendY}">${escapeXml(STATE_MEANINGS[state] ?? state)}</text>`);
  }
  legendY += 18;
  parts.push(`<line class="legend-swatch" x1="${legendX + 6}" x2="${legendX + 6}" y1="${legendY - 11}" y2="${legendY + 3}" stroke="#212121" stroke-width="1.2"/><text x="${legendX + 18}" y="${legendY}">state change</text>`);

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="Incident timeline: answers per second by kind, breaker state as bands" font-family="system-ui, sans-serif" font-size="12">`,
    ...parts,
    '</svg>',
  ].join('\n');
}
