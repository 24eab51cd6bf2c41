import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { SwitchyardError } from '../../src/errors.js';
import { HttpConfigSource, configUrl } from '../../src/config/config-client.js';
import { startConfigServer, type ConfigServer } from '../../src/config/config-server.js';
import { parseSysMap } from '../../src/config/sysmap.js';

const T = { timeout: 10000 };

const MAP = parseSysMap(`
services:
  classify:
    in: classify-in
    out:
      - { case: true, queues: [a] }
      - { case: 1, queues: [b] }
      - { case: "1", queues: [c] }
      - { case: 18446744073709551615, queues: [d] }
    buckets: { clean: clean-texts, raw: raw-texts }
rabbitmq: { host: rabbit.internal, port: 5672, username: svc, pass: infra/rabbitmq/svc }
object-storage: { host: s3.local:9000, access-key: infra/garage/access-key, secret-key: infra/garage/secret-key }
`, 'client-test.yaml');

/** global fetch, counting the requests per path. */
function countingFetch() {
  const counts = new Map<string, number>();
  const urls: string[] = [];
  const f: typeof fetch = async (input, init) => {
    const url = String(input);
    urls.push(url);
    const p = new URL(url).pathname;
    counts.set(p, (counts.get(p) ?? 0) + 1);
    return fetch(input, init);
  };
  return { fetch: f, counts, urls };
}

type Scripted = { status?: number; type?: string; body: string } | 'hang';

/** A server that answers each path from a script; the last entry repeats. */
async function scriptedServer(script: Record<string, Scripted[]>): Promise<{ url: string; hits: Map<string, number>; close(): Promise<void> }> {
  const hits = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const p = req.url ?? '/';
    const n = hits.get(p) ?? 0;
    hits.set(p, n + 1);
    const steps = script[p];
    const step = steps ? steps[Math.min(n, steps.length - 1)]! : { status: 404, body: 'no such path' };
    if (step === 'hang') return; // never answers: for the timeout test
    res.writeHead(step.status ?? 200, { 'Content-Type': step.type ?? 'application/json' });
    res.end(step.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

function isErr(code: string, ...parts: (string | RegExp)[]) {
  return (err: unknown) => {
    assert.ok(err instanceof SwitchyardError, String(err));
    assert.equal(err.code, code, err.message);
    for (const p of parts) {
      if (typeof p === 'string') assert.ok(err.message.includes(p), `${JSON.stringify(p)} not in: ${err.message}`);
      else assert.match(err.message, p);
    }
    return true;
  };
}

describe('HttpConfigSource against the config server', () => {
  let server: ConfigServer;
  before(async () => {
    server = await startConfigServer({ map: MAP });
  });
  after(async () => {
    await server?.close();
  });

  test('round trip: queue config with typed and big cases, buckets, endpoints', T, async () => {
    const c = new HttpConfigSource({ host: server.url });
    assert.deepEqual(await c.queueConfig('classify'), {
      in: 'classify-in',
      out: [
        { case: true, queues: ['a'] },
        { case: 1, queues: ['b'] },
        { case: '1', queues: ['c'] },
        { case: 18446744073709551615n, queues: ['d'] },
      ],
    });
    assert.equal(await c.bucket('classify', 'clean'), 'clean-texts');
    assert.equal(await c.bucket('classify', '/raw/'), 'raw-texts');
    // remoteUrl: these references came over the network, so only pass entries are honoured.
    assert.deepEqual(await c.rabbitmq(), { host: 'rabbit.internal', port: 5672, username: 'svc', passwordRef: 'infra/rabbitmq/svc', remoteUrl: `${server.url}/rabbitmq` });
    assert.deepEqual(await c.objectStorage(), {
      host: 's3.local:9000', accessKeyRef: 'infra/garage/access-key', secretKeyRef: 'infra/garage/secret-key', remoteUrl: `${server.url}/object-storage`,
    });
  });

  test('concurrent first look-ups of one alias share one request; later ones hit the cache', T, async () => {
    const counter = countingFetch();
    const c = new HttpConfigSource({ host: server.url, fetch: counter.fetch });
    const results = await Promise.all(Array.from({ length: 20 }, () => c.bucket('classify', 'clean')));
    assert.deepEqual(new Set(results), new Set(['clean-texts']));
    assert.equal(counter.counts.get('/classify/clean'), 1);
    assert.equal(await c.bucket('classify', '/clean/'), 'clean-texts');
    assert.equal(counter.counts.get('/classify/clean'), 1);
    // Another alias is its own look-up.
    await Promise.all([c.bucket('classify', 'raw'), c.bucket('classify', 'raw')]);
    assert.equal(counter.counts.get('/classify/raw'), 1);
  });

  test('queue config is not cached: each call asks', T, async () => {
    const counter = countingFetch();
    const c = new HttpConfigSource({ host: server.url, fetch: counter.fetch });
    await c.queueConfig('classify');
    await c.queueConfig('classify');
    assert.equal(counter.counts.get('/classify'), 2);
  });

  test('unknown service or alias: SY_ERR_CONFIG_SERVICE with the status and the server\'s explanation', T, async () => {
    const c = new HttpConfigSource({ host: server.url });
    await assert.rejects(c.queueConfig('ghost'), isErr('SY_ERR_CONFIG_SERVICE', `${server.url}/ghost`, 'HTTP 404', 'service "ghost"', '"classify"'));
    await assert.rejects(c.bucket('classify', 'nope'), isErr('SY_ERR_CONFIG_SERVICE', 'HTTP 404', 'bucket alias "nope"'));
  });
});

describe('HttpConfigSource: failures and validation', () => {
  test('a failed bucket look-up is not cached; the next call asks again', T, async () => {
    const s = await scriptedServer({
      '/svc/raw': [{ status: 503, type: 'text/plain', body: 'busy' }, { type: 'text/plain', body: 'raw-texts\n' }],
    });
    try {
      const c = new HttpConfigSource({ host: s.url });
      const failures = await Promise.allSettled([c.bucket('svc', 'raw'), c.bucket('svc', 'raw')]);
      assert.equal(s.hits.get('/svc/raw'), 1);
      for (const f of failures) {
        assert.equal(f.status, 'rejected');
        isErr('SY_ERR_CONFIG_SERVICE', 'HTTP 503', 'busy')((f as PromiseRejectedResult).reason);
      }
      assert.equal(await c.bucket('svc', 'raw'), 'raw-texts');
      assert.equal(await c.bucket('svc', 'raw'), 'raw-texts');
      assert.equal(s.hits.get('/svc/raw'), 2);
    } finally {
      await s.close();
    }
  });

  test('an empty bucket body is an error', T, async () => {
    const s = await scriptedServer({ '/svc/raw': [{ type: 'text/plain', body: '  \n' }] });
    try {
      const c = new HttpConfigSource({ host: s.url });
      await assert.rejects(c.bucket('svc', 'raw'), isErr('SY_ERR_CONFIG_RESPONSE', 'the body is empty', 'alias "raw"'));
      await assert.rejects(c.bucket('svc', '//'), isErr('SY_ERR_BAD_NAME'));
    } finally {
      await s.close();
    }
  });

  test('case types: float (even 2.0), null, list are rejected naming the field; big integers stay exact', T, async () => {
    const s = await scriptedServer({
      '/float': [{ body: '{"in":"q","out":[{"case":1,"queues":["a"]},{"case":2.0,"queues":["b"]},{"case":2.5,"queues":["c"]}]}' }],
      '/null': [{ body: '{"in":"q","out":[{"case":null,"queues":["a"]},{"case":[1],"queues":["b"]},{"queues":["c"]}]}' }],
      '/big': [{ body: '{"in":"q","out":[{"case":9007199254740993,"queues":["a"]},{"case":-9223372036854775808,"queues":["b"]}], "extra": 1}' }],
      '/huge': [{ body: '{"in":"q","out":[{"case":18446744073709551616,"queues":["a"]}]}' }],
      '/shape': [{ body: '{"out":{"case":1}}' }],
      '/notjson': [{ body: 'in: q' }],
    });
    try {
      const c = new HttpConfigSource({ host: s.url });
      await assert.rejects(c.queueConfig('float'), isErr('SY_ERR_CONFIG_RESPONSE',
        'out[1].case: 2.0 is a float; a case must be a bool, an integer or a string', 'out[2].case: 2.5 is a float'));
      await assert.rejects(c.queueConfig('null'), isErr('SY_ERR_CONFIG_RESPONSE',
        'out[0].case: null is not a case', 'out[1].case: a list is not a case', 'out[2].case: the case is missing'));
      assert.deepEqual((await c.queueConfig('big')).out.map((o) => o.case), [9007199254740993n, -9223372036854775808n]);
      await assert.rejects(c.queueConfig('huge'), isErr('SY_ERR_CONFIG_RESPONSE', 'outside the 64-bit integer range'));
      await assert.rejects(c.queueConfig('shape'), isErr('SY_ERR_CONFIG_RESPONSE', 'in: is missing', 'out: expected a list, got a mapping'));
      await assert.rejects(c.queueConfig('notjson'), isErr('SY_ERR_CONFIG_RESPONSE', 'the body is not JSON'));
    } finally {
      await s.close();
    }
  });

  test('endpoint fields must hold exactly one value', T, async () => {
    const s = await scriptedServer({
      '/rabbitmq': [{ body: '{"host":["a","b"],"port":[5672],"username":[],"pass":["p"]}' }],
      '/object-storage': [{ body: '{"host":["h"],"pass:access-key":["a"]}' }],
      '/r2': [{ body: '{"host":["h"],"port":[70000],"username":["u"],"pass":["p"]}' }],
    });
    try {
      const c = new HttpConfigSource({ host: s.url });
      await assert.rejects(c.rabbitmq(), isErr('SY_ERR_CONFIG_RESPONSE',
        "sys-map field 'host' must contain exactly one value, got 2",
        "sys-map field 'username' must contain exactly one value, got 0"));
      await assert.rejects(c.objectStorage(), isErr('SY_ERR_CONFIG_RESPONSE', '["pass:secret-key"]: is missing'));
      const c2 = new HttpConfigSource({ host: s.url, rabbitmqUrl: `${s.url}/r2` });
      await assert.rejects(c2.rabbitmq(), isErr('SY_ERR_CONFIG_RESPONSE', `${s.url}/r2`, 'port[0]: is not a port number'));
    } finally {
      await s.close();
    }
  });

  test('endpoint URLs are configurable (slingshot hard-codes https://sys-map.slingshot.cv)', T, async () => {
    const s = await scriptedServer({
      '/elsewhere/rmq': [{ body: '{"host":["h"],"port":[5671],"username":["u"],"pass":["p"]}' }],
      '/elsewhere/s3': [{ body: '{"host":["s3"],"pass:access-key":["a"],"pass:secret-key":["k"]}' }],
    });
    try {
      const c = new HttpConfigSource({ host: 'unused.invalid', rabbitmqUrl: `${s.url}/elsewhere/rmq`, objectStorageUrl: `${s.url}/elsewhere/s3` });
      assert.equal((await c.rabbitmq()).port, 5671);
      assert.equal((await c.objectStorage()).secretKeyRef, 'k');
    } finally {
      await s.close();
    }
  });

  test('no answer within timeoutMs, and a refused connection, are SY_ERR_CONFIG_SERVICE', T, async () => {
    const s = await scriptedServer({ '/slow': ['hang'] });
    const url = s.url;
    try {
      const c = new HttpConfigSource({ host: url, timeoutMs: 200 });
      await assert.rejects(c.queueConfig('slow'), isErr('SY_ERR_CONFIG_SERVICE', 'no answer within 200 ms'));
    } finally {
      await s.close();
    }
    const gone = new HttpConfigSource({ host: url });
    await assert.rejects(gone.queueConfig('x'), isErr('SY_ERR_CONFIG_SERVICE', `${url}/x`, 'ECONNREFUSED'));
  });
});

describe('URL rule (SPECS.md §1.1)', () => {
  test('configUrl: bare host → https://host/name; http(s) host used as is, trailing "/" trimmed', T, () => {
    assert.equal(configUrl('sys-map.example', 'svc'), 'https://sys-map.example/svc');
    assert.equal(configUrl('http://127.0.0.1:8080/', 'svc'), 'http://127.0.0.1:8080/svc');
    assert.equal(configUrl('https://cfg.example/base//', 'svc'), 'https://cfg.example/base/svc');
  });

  test('the client asks the URLs the rule gives, and encodes names', T, async () => {
    const urls: string[] = [];
    const stub: typeof fetch = async (input) => {
      urls.push(String(input));
      return new Response(String(input).endsWith('/svc') ? '{"in":"q","out":[]}' : 'bucket', { status: 200 });
    };
    const bare = new HttpConfigSource({ host: 'sys-map.example', fetch: stub });
    await bare.queueConfig('svc');
    await bare.bucket('svc', '/a/b/');
    await bare.bucket('svc', 'with space');
    const http = new HttpConfigSource({ host: 'http://127.0.0.1:9/', fetch: stub });
    await http.queueConfig('svc');
    assert.deepEqual(urls, [
      'https://sys-map.example/svc',
      'https://sys-map.example/svc/a/b',
      'https://sys-map.example/svc/with%20space',
      'http://127.0.0.1:9/svc',
    ]);
    assert.equal(bare.rabbitmqUrl, 'https://sys-map.example/rabbitmq');
    assert.equal(bare.objectStorageUrl, 'https://sys-map.example/object-storage');
  });

  test('an empty host is a settings error', T, () => {
    assert.throws(() => new HttpConfigSource({ host: ' ' }), isErr('SY_ERR_SETTINGS', 'host is empty'));
  });
});

describe('credentials in configuration URLs', () => {
  test('a host with user:password@ is refused without repeating the password', () => {
    assert.throws(() => new HttpConfigSource({ host: 'https://svc:s3cr3t-token@config.example.invalid' }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'SY_ERR_SETTINGS');
      assert.doesNotMatch(err.message, /s3cr3t-token/);
      assert.match(err.message, /remove the user:password@ part/);
      return true;
    });
    assert.throws(() => new HttpConfigSource({ host: 'http://127.0.0.1:1', rabbitmqUrl: 'http://u:pw-secret@127.0.0.1:1/rabbitmq' }), (err: Error) => {
      assert.doesNotMatch(err.message, /pw-secret/);
      return true;
    });
  });
});

describe('queue declarations', () => {
  test('come from GET /queue-declarations of the config server, once', async () => {
    const map = parseSysMap('services:\n  a: { in: a-in }\nqueueDefaults: { durable: false }\nqueues:\n  q1: { durable: true, arguments: { x-max-length: 10 } }\n', 'decl.yaml');
    const server = await startConfigServer({ map });
    let calls = 0;
    const counting: typeof fetch = (input, init) => { calls++; return fetch(input, init); };
    try {
      const client = new HttpConfigSource({ host: server.url, fetch: counting });
      assert.deepEqual(await client.queueDeclaration('q1'), { durable: true, arguments: { 'x-max-length': 10 } });
      assert.deepEqual(await client.queueDeclaration('a-in'), { durable: false, arguments: {} });
      assert.equal(calls, 1);
    } finally {
      await server.close();
    }
  });

  test('a map that declares no queue flags is served as slingshot\'s service is: 404, nothing declared', async () => {
    const server = await startConfigServer({ map: parseSysMap('services:\n  a: { in: a-in }\n', 'plain.yaml') });
    try {
      const client = new HttpConfigSource({ host: server.url });
      assert.equal(await client.queueDeclaration('a-in'), undefined);
      assert.equal((await fetch(`${server.url}/queue-declarations`)).status, 404);
    } finally {
      await server.close();
    }
  });

  test('queues only, no defaults: listed queues have flags, others none; Object\'s keys are no queues', async () => {
    const map = parseSysMap('services:\n  a: { in: a-in }\nqueues:\n  q1: { durable: true }\n', 'queues-only.yaml');
    const server = await startConfigServer({ map });
    try {
      const client = new HttpConfigSource({ host: server.url });
      assert.deepEqual(await client.queueDeclaration('q1'), { durable: true, arguments: {} });
      assert.equal(await client.queueDeclaration('a-in'), undefined);
      assert.equal(await client.queueDeclaration('constructor'), undefined);
    } finally {
      await server.close();
    }
  });

  test('a configuration service without the endpoint (slingshot\'s) declares nothing', async () => {
    const server = createServer((_req, res) => res.writeHead(404).end('not found'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const client = new HttpConfigSource({ host: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
      assert.equal(await client.queueDeclaration('anything'), undefined);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

describe('HttpConfigSource: answers are read up to a bound (issue 17)', () => {
  /** Streams `total` bytes of JSON-looking text in 64 KiB chunks, without content-length; counts what it wrote. */
  async function floodServer(total: number): Promise<{ url: string; written: () => number; close(): Promise<void> }> {
    let written = 0;
    const server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (written < total) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end('{}');
      };
      res.on('close', () => res.removeAllListeners('drain'));
      pump();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      written: () => written,
      close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }),
    };
  }

  test('a 64 MiB answer is refused after 1 MiB (the default), naming the setting; the rest is not read', T, async () => {
    const s = await floodServer(64 * 1024 * 1024);
    try {
      const c = new HttpConfigSource({ host: s.url });
      await assert.rejects(c.queueConfig('svc'), isErr('SY_ERR_LIMIT_EXCEEDED', 'GET', '1048576 bytes', 'configMaxResponseBytes'));
      await new Promise((r) => setTimeout(r, 100));
      assert.ok(s.written() < 16 * 1024 * 1024, `the server got to write ${s.written()} bytes: the answer was read on`);
    } finally {
      await s.close();
    }
  });

  test('a declared content-length over the bound is refused before reading; the bound is settable', T, async () => {
    const s = await scriptedServer({ '/svc/raw': [{ type: 'text/plain', body: 'x'.repeat(2000) }] });
    try {
      await assert.rejects(new HttpConfigSource({ host: s.url, maxResponseBytes: 1000 }).bucket('svc', 'raw'), isErr('SY_ERR_LIMIT_EXCEEDED', '1000 bytes'));
      assert.equal(await new HttpConfigSource({ host: s.url, maxResponseBytes: 4000 }).bucket('svc', 'raw'), 'x'.repeat(2000));
    } finally {
      await s.close();
    }
  });
});
