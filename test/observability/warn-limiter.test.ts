import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/observability/logger.js';
import { warnLimiter } from '../../src/observability/warn-limiter.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { lines, log: createLogger({ destination }) };
}

describe('warn limiter', () => {
  it('writes `burst` lines per key per window, then counts the rest and reports the count', () => {
    const { lines, log } = capture();
    let t = 0;
    const limiter = warnLimiter(log, { burst: 2, windowMs: 1000, now: () => t });
    for (let i = 0; i < 100; i++) limiter.warn('bad-frame', { i }, 'bad frame');
    limiter.warn('other', {}, 'other warning');
    assert.equal(lines.filter((l) => l.msg === 'bad frame').length, 2);
    assert.equal(lines.filter((l) => l.msg === 'other warning').length, 1);
    t = 1500; // next window: the count is reported before the new line
    limiter.warn('bad-frame', {}, 'bad frame');
    const summary = lines.find((l) => l.suppressed !== undefined);
    assert.equal(summary?.suppressed, 98);
    assert.equal(summary?.key, 'bad-frame');
    assert.equal(lines.at(-1)?.msg, 'bad frame');
    limiter.flush();
  });

  it('bounds the keys it tracks (keys chosen by a peer cannot grow memory)', () => {
    const { lines, log } = capture();
    const limiter = warnLimiter(log, { burst: 1, maxKeys: 3, now: () => 0 });
    for (let i = 0; i < 1000; i++) limiter.warn(`k${i}`, {}, 'w');
    assert.equal(lines.length, 4); // k0, k1, k2 and one line for the shared "(other)" bucket
    limiter.flush();
    assert.equal(lines.at(-1)?.suppressed, 996);
  });
});
