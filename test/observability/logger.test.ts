import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { SwitchyardError } from '../../src/errors.js';
import { createLogger, levelNames, REDACTED, validateLevel } from '../../src/observability/mod.js';

const T = { timeout: 15000 };

/** A destination that keeps every line, parsed. */
function collector() {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  return {
    lines,
    raw,
    write(chunk: string) {
      for (const line of chunk.split('\n').filter(Boolean)) {
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
    },
  };
}

describe('createLogger', () => {
  test('writes JSON lines with the service field', T, () => {
    const out = collector();
    const log = createLogger({ service: 'ingest', destination: out });
    log.info({ id: '42' }, 'message done');
    assert.equal(out.lines.length, 1);
    const line = out.lines[0]!;
    assert.equal(line.service, 'ingest');
    assert.equal(line.level, 'info');
    assert.equal(line.msg, 'message done');
    assert.equal(line.id, '42');
    assert.ok(typeof line.time === 'string' && !Number.isNaN(Date.parse(line.time)), 'time is an ISO date');
  });

  test('children carry their bindings', T, () => {
    const out = collector();
    const log = createLogger({ service: 'svc', destination: out });
    const perQueue = log.child({ queue: 'in' });
    perQueue.child({ messageId: '7' }).warn('slow');
    assert.deepEqual(
      { service: out.lines[0]!.service, queue: out.lines[0]!.queue, messageId: out.lines[0]!.messageId, level: out.lines[0]!.level },
      { service: 'svc', queue: 'in', messageId: '7', level: 'warn' },
    );
  });

  test('without a service there is no service field to clash with per-line ones', T, () => {
    const out = collector();
    const log = createLogger({ destination: out });
    log.info({ service: 'a' }, 'x');
    assert.equal(out.raw[0]!.match(/"service"/g)?.length, 1);
    assert.equal(out.lines[0]!.service, 'a');
  });

  test('redacts secrets', T, () => {
    const out = collector();
    const log = createLogger({ service: 'svc', destination: out });
    log.info({
      user: 'ann',
      password: 'hunter2',
      db: { host: 'db', password: 'hunter3' },
      s3: { client: { secretKey: 'abc', accessKey: 'def' } },
      headers: { authorization: 'Bearer xyz' },
      token: 'tok',
    }, 'connecting');
    log.child({ secret: 's3cr3t' }).info('child');
    const [first, second] = out.lines as [Record<string, any>, Record<string, any>];
    assert.equal(first.user, 'ann');
    assert.equal(first.password, REDACTED);
    assert.equal(first.db.password, REDACTED);
    assert.equal(first.db.host, 'db');
    assert.equal(first.s3.client.secretKey, REDACTED);
    assert.equal(first.s3.client.accessKey, REDACTED);
    assert.equal(first.headers.authorization, REDACTED);
    assert.equal(first.token, REDACTED);
    assert.equal(second.secret, REDACTED);
    const all = out.raw.join('\n');
    for (const secret of ['hunter2', 'hunter3', 'abc', 'def', 'xyz', 'tok', 's3cr3t']) {
      assert.ok(!all.includes(`"${secret}"`) && !all.includes(` ${secret}"`), `${secret} leaked: ${all}`);
    }
  });

  test('redacts secrets one and two levels down without touching the caller\'s objects: arrays, errors, child bindings', T, () => {
    const out = collector();
    const log = createLogger({ destination: out });
    const line = {
      list: [{ token: 'in-a-list' }, { name: 'kept' }],
      err: Object.assign(new Error('connect failed'), { config: { password: 'in-an-error' } }),
      deep: { a: { b: { password: 'three-down' } } },
    };
    log.info(line, 'x');
    log.child({ db: { password: 'in-a-binding' } }).info('y');
    const [first, second] = out.lines as [Record<string, any>, Record<string, any>];
    assert.deepEqual(first.list, [{ token: REDACTED }, { name: 'kept' }]);
    assert.equal(first.err.config.password, REDACTED);
    assert.equal(first.err.message, 'connect failed', 'an error stays an error');
    assert.match(first.err.stack, /connect failed/);
    assert.equal(first.deep.a.b.password, 'three-down', 'three levels down is not a known place for a secret (as before)');
    assert.equal(second.db.password, REDACTED);
    assert.equal(line.list[0]!.token, 'in-a-list', 'the caller\'s object is unchanged');
    assert.equal((line.err as unknown as { config: { password: string } }).config.password, 'in-an-error');
    assert.ok(!out.raw.join('\n').includes('in-a-list') && !out.raw.join('\n').includes('in-an-error') && !out.raw.join('\n').includes('in-a-binding'));
  });

  test('extra redact paths', T, () => {
    const out = collector();
    const log = createLogger({ destination: out, redact: ['config.dsn'] });
    log.info({ config: { dsn: 'amqp://u:p@h', other: 1 } }, 'x');
    assert.deepEqual(out.lines[0]!.config, { dsn: REDACTED, other: 1 });
  });

  test('respects the level', T, () => {
    const out = collector();
    const log = createLogger({ level: 'warn', destination: out });
    log.info('hidden');
    log.debug('hidden');
    log.warn('shown');
    log.error({ err: new Error('boom') }, 'failed');
    assert.deepEqual(out.lines.map((l) => l.msg), ['shown', 'failed']);
    assert.equal((out.lines[1]!.err as { message: string }).message, 'boom');
    assert.equal(createLogger({ level: 'silent', destination: out }).isLevelEnabled('fatal'), false);
  });

  test('writes to a file descriptor', T, async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'switchyard-logger-'));
    try {
      const file = path.join(dir, 'log.jsonl');
      const handle = await fsp.open(file, 'w');
      const log = createLogger({ service: 'fd', destination: handle.fd });
      log.info('to a file');
      log.flush();
      const text = await fsp.readFile(file, 'utf8');
      await handle.close();
      assert.equal((JSON.parse(text.trim()) as { msg: string; service: string }).service, 'fd');
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('log levels', () => {
  test('valid levels and aliases', T, () => {
    for (const l of levelNames) assert.equal(validateLevel(l), l);
    assert.equal(validateLevel('INFO'), 'info');
    assert.equal(validateLevel('warning'), 'warn');
    assert.equal(validateLevel('critical'), 'fatal');
  });

  test('an invalid level names the valid ones', T, () => {
    for (const bad of ['verbose', '', 'info2']) {
      assert.throws(() => validateLevel(bad), (err: unknown) => {
        assert.ok(err instanceof SwitchyardError);
        assert.equal(err.code, 'SY_ERR_SETTINGS');
        assert.equal(err.kind, 'config');
        assert.ok(err.message.includes(JSON.stringify(bad)));
        for (const l of levelNames) assert.ok(err.message.includes(l), `missing ${l} in ${err.message}`);
        return true;
      });
    }
    assert.throws(() => createLogger({ level: 'loud' }), /SY_ERR_SETTINGS/);
  });
});
