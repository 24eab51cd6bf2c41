import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { startConfigServer, type ConfigServer } from '../../src/config/config-server.js';
import { parseSysMap } from '../../src/config/sysmap.js';

const T = { timeout: 10000 };

const MAP = parseSysMap(`
services:
  simple-microservice:
    in: simple-microservice-inbound
    out:
      - { case: case_a, queues: [case_a_outbound_1, case_a_outbound_2] }
      - { case: false, queues: [binary-classification-false-outbound] }
      - { case: 3, queues: [three] }
      - { case: 18446744073709551615, queues: [u64-max] }
      - { case: -9223372036854775808, queues: [i64-min] }
      - { case: "1", queues: ["quote\\"d"] }
    buckets:
      raw: raw-texts
      nested/alias: nested-bucket
  sink:
    in: sink-in
rabbitmq: { host: rabbit.internal, port: 5672, username: svc, pass: infra/rabbitmq/svc }
object-storage: { host: s3.slingshot.cv, access-key: infra/garage/access-key, secret-key: infra/garage/secret-key }
`, 'server-test.yaml');

let server: ConfigServer;
before(async () => {
  server = await startConfigServer({ map: MAP });
});
after(async () => {
  await server?.close();
});

async function get(path: string, method = 'GET'): Promise<{ status: number; type: string | null; body: string; allow: string | null }> {
  const res = await fetch(server.url + path, { method, signal: AbortSignal.timeout(5000) });
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text(), allow: res.headers.get('allow') };
}

describe('config server: responses byte for byte (SPECS.md §1.2-1.4, §1.6)', () => {
  test('binds 127.0.0.1 on a free port by default', T, () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(server.port > 0);
  });

  test('GET /{service}: compact JSON, keys in order, integer cases exact above 2^53', T, async () => {
    const r = await get('/simple-microservice');
    assert.equal(r.status, 200);
    assert.equal(r.type, 'application/json');
    assert.equal(r.body,
      '{"in":"simple-microservice-inbound","out":['
      + '{"case":"case_a","queues":["case_a_outbound_1","case_a_outbound_2"]},'
      + '{"case":false,"queues":["binary-classification-false-outbound"]},'
      + '{"case":3,"queues":["three"]},'
      + '{"case":18446744073709551615,"queues":["u64-max"]},'
      + '{"case":-9223372036854775808,"queues":["i64-min"]},'
      + '{"case":"1","queues":["quote\\"d"]}]}');
  });

  test('a service without routes has "out":[]; a trailing slash is trimmed', T, async () => {
    assert.equal((await get('/sink')).body, '{"in":"sink-in","out":[]}');
    assert.equal((await get('/sink/')).body, '{"in":"sink-in","out":[]}');
  });

  test('GET /{service}/{alias}: text/plain bucket name; slashes trimmed; an alias may hold "/"', T, async () => {
    for (const p of ['/simple-microservice/raw', '/simple-microservice/raw/', '//simple-microservice//raw//']) {
      const r = await get(p);
      assert.equal(r.status, 200, p);
      assert.equal(r.type, 'text/plain; charset=utf-8');
      assert.equal(r.body, 'raw-texts');
    }
    assert.equal((await get('/simple-microservice/nested/alias')).body, 'nested-bucket');
    assert.equal((await get('/simple-microservice/nested%2Falias')).body, 'nested-bucket');
  });

  test('GET /rabbitmq: every field a one-element array; pass is the entry name, not a secret', T, async () => {
    const r = await get('/rabbitmq');
    assert.equal(r.type, 'application/json');
    assert.equal(r.body, '{"host":["rabbit.internal"],"port":[5672],"username":["svc"],"pass":["infra/rabbitmq/svc"]}');
  });

  test('GET /object-storage: literal field names pass:access-key and pass:secret-key', T, async () => {
    const r = await get('/object-storage');
    assert.equal(r.type, 'application/json');
    assert.equal(r.body, '{"host":["s3.slingshot.cv"],"pass:access-key":["infra/garage/access-key"],"pass:secret-key":["infra/garage/secret-key"]}');
  });

  test('unknown service or alias: 404 naming what is missing and what is known', T, async () => {
    const s = await get('/nope');
    assert.equal(s.status, 404);
    assert.equal(s.type, 'text/plain; charset=utf-8');
    assert.equal(s.body, 'not found: service "nope"; services: "simple-microservice", "sink"; endpoints: "rabbitmq", "object-storage"\n');
    const a = await get('/simple-microservice/clean');
    assert.equal(a.status, 404);
    assert.equal(a.body, 'not found: bucket alias "clean" of service "simple-microservice"; its aliases: "raw", "nested/alias"\n');
    assert.equal((await get('/')).status, 404);
    assert.equal((await get('/rabbitmq/extra')).status, 404);
  });

  test('a missing endpoint section is a 404 that says so', T, async () => {
    const bare = await startConfigServer({ map: parseSysMap('services: {}\n', 'bare.yaml') });
    try {
      const res = await fetch(`${bare.url}/rabbitmq`, { signal: AbortSignal.timeout(5000) });
      assert.equal(res.status, 404);
      assert.match(await res.text(), /endpoint "rabbitmq": the system map has no rabbitmq section/);
    } finally {
      await bare.close();
    }
  });

  test('non-GET is 405 with Allow; bad percent-encoding is 400', T, async () => {
    for (const m of ['POST', 'PUT', 'DELETE']) {
      const r = await get('/sink', m);
      assert.equal(r.status, 405, m);
      assert.equal(r.allow, 'GET, HEAD');
    }
    assert.equal((await get('/%E0%A4%A')).status, 400);
  });

  test('HEAD answers headers only', T, async () => {
    const r = await get('/sink', 'HEAD');
    assert.equal(r.status, 200);
    assert.equal(r.body, '');
  });

  test('close() returns while a client still holds a keep-alive connection', T, async () => {
    const s = await startConfigServer({ map: MAP });
    await new Promise<void>((resolve, reject) => {
      const req = request(`${s.url}/sink`, { agent: new Agent({ keepAlive: true }) }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end();
    });
    await s.close();
  });
});
