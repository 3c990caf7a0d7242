import { classifyAnswer } from '../../../demo/classifyAnswer';
import { TimelineRecorder } from '../../../demo/timeline';

describe('classifyAnswer', () => {
  it('follows the HTTP contract', () => {
    expect(classifyAnswer(200, 'directory')).toBe('fresh');
    expect(classifyAnswer(200, 'cache')).toBe('cached');
    expect(classifyAnswer(503, null)).toBe('rejected');
    expect(classifyAnswer(200, null)).toBe('error');
    expect(classifyAnswer(500, 'directory')).toBe('error');
    expect(classifyAnswer(404, null)).toBe('error');
    expect(classifyAnswer(undefined, undefined)).toBe('error');
  });
});

describe('TimelineRecorder', () => {
  it('buckets answers by time and kind, padding to the duration', () => {
    const recorder = new TimelineRecorder(100);
    recorder.answer('fresh', 0);
    recorder.answer('fresh', 99.9);
    recorder.answer('cached', 100);
    recorder.answer('rejected', 250);
    const timeline = recorder.finish(500);
    expect(timeline.buckets).toEqual([
      { fresh: 2, cached: 0, rejected: 0, error: 0 },
      { fresh: 0, cached: 1, rejected: 0, error: 0 },
      { fresh: 0, cached: 0, rejected: 1, error: 0 },
      { fresh: 0, cached: 0, rejected: 0, error: 0 },
      { fresh: 0, cached: 0, rejected: 0, error: 0 },
    ]);
    expect(recorder.countsAt(150)).toEqual({ fresh: 0, cached: 1, rejected: 0, error: 0 });
  });

  it('keeps only state changes, as consecutive bands and transitions', () => {
    const recorder = new TimelineRecorder(100);
    recorder.state('CLOSED', 10);
    recorder.state('CLOSED', 50);
    recorder.state('OPEN', 200, 'failureThreshold');
    recorder.state('HALF_OPEN', 300);
    recorder.state('CLOSED', 320, 'trialSucceeded');
    expect(recorder.currentState()).toBe('CLOSED');
    const timeline = recorder.finish(400);
    expect(timeline.bands).toEqual([
      { state: 'CLOSED', from: 10, to: 200 },
      { state: 'OPEN', from: 200, to: 300 },
      { state: 'HALF_OPEN', from: 300, to: 320 },
      { state: 'CLOSED', from: 320, to: 400 },
    ]);
    expect(timeline.transitions).toEqual([
      { at: 200, from: 'CLOSED', to: 'OPEN', reason: 'failureThreshold' },
      { at: 300, from: 'OPEN', to: 'HALF_OPEN', reason: '' },
      { at: 320, from: 'HALF_OPEN', to: 'CLOSED', reason: 'trialSucceeded' },
    ]);
  });

  it('turns phase starts into spans ending at the next phase or the end', () => {
    const recorder = new TimelineRecorder(100);
    recorder.phase('healthy', 0);
    recorder.phase('down', 150);
    expect(recorder.finish(300).phases).toEqual([
      { name: 'healthy', from: 0, to: 150 },
      { name: 'down', from: 150, to: 300 },
    ]);
  });

  it('puts readings that arrive out of time order (interleaved log lines of two containers) in their place', () => {
    const recorder = new TimelineRecorder(100);
    recorder.state('CLOSED', 0);
    recorder.state('HALF_OPEN', 300);
    recorder.state('OPEN', 200);
    expect(recorder.currentState()).toBe('HALF_OPEN');
    expect(recorder.finish(400).transitions.map((t) => `${t.from}>${t.to}@${t.at}`)).toEqual(['CLOSED>OPEN@200', 'OPEN>HALF_OPEN@300']);
  });

  it('rejects a non-positive bucket', () => {
    expect(() => new TimelineRecorder(0)).toThrow('bucketMs must be > 0');
  });
});
