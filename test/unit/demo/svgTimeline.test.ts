import { renderIncidentPage } from '../../../demo/htmlPage';
import { escapeXml, MIN_BAND_PX, niceStep, renderTimelineSvg, STATE_COLOURS, ANSWER_COLOURS, transitionLabel } from '../../../demo/svgTimeline';
import { TimelineRecorder, type Timeline } from '../../../demo/timeline';

function incident(): Timeline {
  const recorder = new TimelineRecorder(1000);
  recorder.phase('healthy', 0);
  recorder.state('CLOSED', 0);
  for (let i = 0; i < 10; i += 1) recorder.answer('fresh', 100 + i); // 10 answers/s in second 0
  recorder.phase('directory down', 2000);
  recorder.state('OPEN', 2500, 'failureThreshold');
  for (let i = 0; i < 4; i += 1) recorder.answer('cached', 3000 + i);
  for (let i = 0; i < 6; i += 1) recorder.answer('rejected', 3100 + i);
  recorder.answer('error', 3200);
  recorder.state('HALF_OPEN', 6000);
  recorder.state('CLOSED', 7000);
  return recorder.finish(10_000);
}

const count = (text: string, pattern: RegExp): number => (text.match(pattern) ?? []).length;

describe('renderTimelineSvg', () => {
  const svg = renderTimelineSvg(incident(), { width: 1000, height: 440 });

  it('is one standalone SVG element', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(count(svg, /<svg/g)).toBe(1);
  });

  it('draws one band per state period, coloured by state, spanning its time', () => {
    const bands = [...svg.matchAll(/<rect class="band" data-state="(\w+)" x="([\d.]+)" y="\d+" width="([\d.]+)"[^>]*fill="(#\w+)"/g)];
    expect(bands.map((band) => band[1])).toEqual(['CLOSED', 'OPEN', 'HALF_OPEN', 'CLOSED']);
    expect(bands.map((band) => band[4])).toEqual([STATE_COLOURS.CLOSED, STATE_COLOURS.OPEN, STATE_COLOURS.HALF_OPEN, STATE_COLOURS.CLOSED]);
    // Plot is 1000 - 60 - 225 = 715 px wide for 10 s: OPEN spans 2.5..6 s -> x 60 + 178.75, width 250.25.
    const open = bands[1];
    expect(Number(open[2])).toBeCloseTo(238.75, 0);
    expect(Number(open[3])).toBeCloseTo(250.25, 0);
  });

  it('draws a state that lasted milliseconds (a probe that failed at once) at least MIN_BAND_PX wide', () => {
    const recorder = new TimelineRecorder(1000);
    recorder.state('OPEN', 0);
    recorder.state('HALF_OPEN', 5000);
    recorder.state('OPEN', 5004);
    const bands = [...renderTimelineSvg(recorder.finish(10_000)).matchAll(/<rect class="band" data-state="(\w+)" x="([\d.]+)" y="\d+" width="([\d.]+)"/g)];
    expect(bands.map((band) => band[1])).toEqual(['OPEN', 'HALF_OPEN', 'OPEN']);
    const [, probe, after] = bands.map((band) => ({ x: Number(band[2]), width: Number(band[3]) }));
    expect(probe.width).toBeGreaterThanOrEqual(MIN_BAND_PX);
    // The next band starts where the widened one ends, so the probe stays visible.
    expect(after.x).toBeCloseTo(probe.x + probe.width, 1);
  });

  it('marks every transition with its from and to states, and its reason in the tooltip', () => {
    const marks = [...svg.matchAll(/<g class="transition" data-from="(\w+)" data-to="(\w+)"/g)].map((m) => `${m[1]}>${m[2]}`);
    expect(marks).toEqual(['CLOSED>OPEN', 'OPEN>HALF_OPEN', 'HALF_OPEN>CLOSED']);
    expect(svg).toContain('<title>CLOSED → OPEN at 2.5 s (failureThreshold)</title>');
  });

  it('says above the plot what each transition means, in rows so labels close in time do not overlap', () => {
    expect([...svg.matchAll(/class="transition-label">([^<]+)</g)].map((m) => m[1])).toEqual(['opened', 'closed']);
    const recorder = new TimelineRecorder(1000);
    recorder.state('CLOSED', 0);
    recorder.state('OPEN', 1000);
    recorder.state('HALF_OPEN', 1100);
    recorder.state('OPEN', 1105);
    const labels = [...renderTimelineSvg(recorder.finish(10_000)).matchAll(/<text x="([\d.]+)" y="([\d.]+)" class="transition-label">([^<]+)</g)].map((m) => ({ text: m[3], y: Number(m[2]) }));
    expect(labels.map((label) => label.text)).toEqual(['opened', 'probe failed']);
    expect(labels[0].y).not.toBe(labels[1].y);
  });

  it('stacks bars by kind with heights proportional to answers per second', () => {
    expect(count(svg, /class="bar bar-fresh"/g)).toBe(1);
    expect(count(svg, /class="bar bar-cached"/g)).toBe(1);
    expect(count(svg, /class="bar bar-rejected"/g)).toBe(1);
    expect(count(svg, /class="bar bar-error"/g)).toBe(1);
    const height = (kind: string): number => Number(new RegExp(`class="bar bar-${kind}"[^>]*height="([\\d.]+)"`).exec(svg)?.[1]);
    // Second 3 holds 4 cached + 6 rejected + 1 error = 11/s; second 0 holds 10 fresh: equal rates draw equal heights.
    expect(height('cached') / height('rejected')).toBeCloseTo(4 / 6, 1);
    expect(height('fresh')).toBeCloseTo(height('cached') + height('rejected'), 0);
    expect(svg).toContain(`fill="${ANSWER_COLOURS.rejected}"`);
  });

  it('has a seconds axis and an answers-per-second axis with round ticks', () => {
    const xTicks = [...svg.matchAll(/class="x-tick-label"[^>]*>([\d.]+)</g)].map((m) => Number(m[1]));
    expect(xTicks).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const yTicks = [...svg.matchAll(/class="y-tick"[^>]*>([\d.]+)</g)].map((m) => Number(m[1]));
    expect(yTicks[0]).toBe(0);
    expect(Math.max(...yTicks)).toBeGreaterThanOrEqual(11);
    expect(svg).toContain('seconds since the traffic started');
    expect(svg).toContain('answers per second');
  });

  it('has a legend for every answer kind, every state drawn and the transition line', () => {
    for (const text of ['fresh: 200, from directory', 'cached: 200, stored copy', 'rejected: 503, no copy', 'error: anything else', 'CLOSED: calls pass', 'OPEN: calls rejected', 'HALF_OPEN: probing', 'state change']) {
      expect(svg).toContain(`>${text}</text>`);
    }
  });

  it('labels the phases and escapes every text it did not write itself', () => {
    expect(svg).toContain('>healthy</text>');
    expect(svg).toContain('>directory down</text>');
    const recorder = new TimelineRecorder(1000);
    recorder.phase('<script>alert("x")</script> & co', 0);
    recorder.state('WEIRD"<state>', 0);
    recorder.state('OPEN', 500);
    const hostile = renderTimelineSvg(recorder.finish(1000));
    expect(hostile).not.toContain('<script>');
    expect(hostile).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co');
    expect(hostile).toContain('data-state="WEIRD&quot;&lt;state&gt;"');
  });

  it('renders an empty timeline without bars or transitions', () => {
    const empty = renderTimelineSvg(new TimelineRecorder(500).finish(0));
    expect(count(empty, /class="bar /g)).toBe(0);
    expect(count(empty, /class="transition"/g)).toBe(0);
    expect(empty).not.toContain('NaN');
  });
});

describe('svg helpers', () => {
  it('names transitions by what they mean to a watcher; the start of a probe is its band', () => {
    expect(transitionLabel('CLOSED', 'OPEN')).toBe('opened');
    expect(transitionLabel('OPEN', 'HALF_OPEN')).toBe('');
    expect(transitionLabel('HALF_OPEN', 'OPEN')).toBe('probe failed');
    expect(transitionLabel('HALF_OPEN', 'CLOSED')).toBe('closed');
    expect(transitionLabel('OPEN', 'FORCED_OPEN')).toBe('→ FORCED_OPEN');
  });

  it('escapes the five XML specials', () => {
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
  });

  it('picks 1-2-5 steps', () => {
    expect(niceStep(10, 10)).toBe(1);
    expect(niceStep(45, 10)).toBe(5);
    expect(niceStep(130, 5)).toBe(50);
    expect(niceStep(0.7, 5)).toBe(0.2);
    expect(niceStep(0, 5)).toBe(1);
  });
});

describe('renderIncidentPage', () => {
  it('is a self-contained HTML page with the SVG inline, totals, transitions and settings', () => {
    const html = renderIncidentPage({
      timeline: incident(),
      generatedAt: new Date('2025-01-01T00:00:00Z'),
      breakerSettings: { breakerOpenMs: '2000' },
      script: ['healthy (8 s): fine', 'down <503>'],
    });
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<svg xmlns="http://www.w3.org/2000/svg"');
    expect(html).not.toMatch(/<(script|link|img)\b/);
    expect(html).not.toMatch(/src="http|href="http/);
    expect(html).toContain('fresh: 10');
    expect(html).toContain('rejected: 6');
    expect(html).toContain('2.5 s: CLOSED → <strong>OPEN</strong> (opened; reason: failureThreshold)');
    expect(html).toContain('6.0 s: OPEN → <strong>HALF_OPEN</strong> (probing)');
    expect(html).toContain('<td>breakerOpenMs</td><td>2000</td>');
    expect(html).toContain('down &lt;503&gt;');
  });
});
