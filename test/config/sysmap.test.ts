import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { SwitchyardError } from '../../src/errors.js';
import { caseKey } from '../../src/config/case-value.js';
import {
  MapConfigSource, bucketOf, loadSysMap, parseSysMap, queueConfigOf, queueDeclarationOf,
} from '../../src/config/sysmap.js';

const T = { timeout: 10000 };

const VALID = `
services:
  ingest:
    in: ingest-in
    out:
      - case: true
        queues: [classify-in]
      - case: 1
        queues: [one]
      - case: "1"
        queues: [one-string]
      - case: 18446744073709551615
        queues: [big]
      - case: -9223372036854775808
        queues: [small]
    buckets:
      raw: raw-texts
  classify:
    in: classify-in
    buckets: { clean: clean-texts }
buckets: [raw-texts, clean-texts]
queues:
  classify-in: { durable: true, arguments: { x-max-length: 10 } }
rabbitmq: { host: 127.0.0.1, port: 5672, username: svc, pass: infra/rabbitmq/svc }
object-storage: { host: s3.local:9000, access-key: infra/garage/access-key, secret-key: infra/garage/secret-key }
`;

/** The problem lines of a SY_ERR_SYSMAP_INVALID thrown by parsing `text`. */
function problemsOf(text: string, label = 'map.yaml'): string[] {
  try {
    parseSysMap(text, label);
  } catch (err) {
    assert.ok(err instanceof SwitchyardError, String(err));
    assert.equal(err.code, 'SY_ERR_SYSMAP_INVALID');
    assert.match(err.message, new RegExp(`system map ${label.replace('.', '\\.')} is not valid`));
    return err.message.split('\n').slice(1).map((l) => l.replace(/^\s+- /, ''));
  }
  assert.fail('expected SY_ERR_SYSMAP_INVALID');
}

function service(body: string): string {
  return `services:\n  svc:\n    in: svc-in\n${body}`;
}

describe('parseSysMap: a valid map', () => {
  test('parses services, typed cases, buckets, queues and endpoints', T, () => {
    const m = parseSysMap(VALID, 'map.yaml');
    assert.equal(m.file, 'map.yaml');
    assert.deepEqual([...m.services.keys()], ['ingest', 'classify']);
    const ingest = m.services.get('ingest')!;
    assert.equal(ingest.in, 'ingest-in');
    // true, 1 and "1" are three different cases and coexist; integers stay exact.
    assert.deepEqual(ingest.out.map((o) => o.case), [true, 1, '1', 18446744073709551615n, -9223372036854775808n]);
    assert.deepEqual(new Set(ingest.out.map((o) => caseKey(o.case))).size, 5);
    assert.deepEqual(ingest.out[0]!.queues, ['classify-in']);
    assert.deepEqual(m.services.get('classify')!.out, []);
    assert.deepEqual(m.buckets, ['raw-texts', 'clean-texts']);
    assert.deepEqual(queueDeclarationOf(m, 'classify-in'), { durable: true, arguments: { 'x-max-length': 10 } });
    // No queueDefaults: the map says nothing about other queues (settings, or the queue as it exists, decide).
    assert.equal(queueDeclarationOf(m, 'not-declared'), undefined);
    assert.deepEqual(m.rabbitmq, { host: '127.0.0.1', port: 5672, username: 'svc', passwordRef: 'infra/rabbitmq/svc' });
    assert.deepEqual(m.objectStorage, {
      host: 's3.local:9000', accessKeyRef: 'infra/garage/access-key', secretKeyRef: 'infra/garage/secret-key',
    });
  });

  test('queueDefaults: a system shared with slingshot declares its queues non-durable', () => {
    const m = parseSysMap('services:\n  a: { in: a-in }\nqueueDefaults: { durable: false }\nqueues:\n  b-in: { arguments: { x-queue-type: quorum } }\n', 'shared.yaml');
    assert.deepEqual(queueDeclarationOf(m, 'a-in'), { durable: false, arguments: {} });
    assert.deepEqual(queueDeclarationOf(m, 'b-in'), { durable: false, arguments: { 'x-queue-type': 'quorum' } });
  });

  test('a queue entry without durable takes queueDefaults, else slingshot\'s flag (non-durable)', () => {
    const own = parseSysMap('services:\n  a: { in: a-in }\nqueues:\n  b-in: { arguments: { x-max-length: 5 } }\n', 'own.yaml');
    assert.deepEqual(queueDeclarationOf(own, 'b-in'), { durable: false, arguments: { 'x-max-length': 5 } });
    assert.equal(queueDeclarationOf(own, 'a-in'), undefined);
    const durable = parseSysMap('services:\n  a: { in: a-in }\nqueueDefaults: { durable: true }\nqueues:\n  b-in: { arguments: { x-max-length: 5 } }\n', 'durable.yaml');
    assert.deepEqual(queueDeclarationOf(durable, 'b-in'), { durable: true, arguments: { 'x-max-length': 5 } });
    assert.deepEqual(queueDeclarationOf(durable, 'a-in'), { durable: true, arguments: {} });
  });

  test('the same map as JSON parses to the same result, big integers exact', T, () => {
    const json = JSON.stringify({
      services: { s: { in: 'q', out: [{ case: 7, queues: ['a'] }], buckets: { raw: 'b' } } },
      buckets: ['b'],
    }).replace('"case":7', '"case":18446744073709551615');
    const m = parseSysMap(json, 'map.json');
    assert.equal(m.services.get('s')!.out[0]!.case, 18446744073709551615n);
    assert.equal(bucketOf(m, 's', 'raw'), 'b');
  });

  test('buckets may be left undeclared; then any alias target is accepted', T, () => {
    const m = parseSysMap(service('    buckets: { raw: anything }\n'), 'm.yaml');
    assert.equal(m.buckets, undefined);
    assert.equal(bucketOf(m, 'svc', 'raw'), 'anything');
  });

  test('the shipped example map is valid', T, async () => {
    const m = await loadSysMap(path.join(import.meta.dirname, '../../examples/text-pipeline/sysmap.yaml'));
    assert.ok(m.services.size > 0);
  });
});

describe('parseSysMap: every problem is reported, each naming its path', () => {
  test('a float case, including 2.0, which yaml reads as the number 2', T, () => {
    const problems = problemsOf(service('    out:\n      - { case: 1, queues: [a] }\n      - { case: 2.5, queues: [b] }\n      - { case: 2.0, queues: [c] }\n'));
    assert.deepEqual(problems, [
      'services.svc.out[1].case: 2.5 is a float; a case must be a bool, an integer or a string (line 6)',
      'services.svc.out[2].case: 2.0 is a float; a case must be a bool, an integer or a string (line 7)',
    ]);
  });

  test('null, list, mapping and missing cases', T, () => {
    const problems = problemsOf(service(
      '    out:\n      - { case: null, queues: [a] }\n      - { case: [1], queues: [a] }\n      - { case: {a: 1}, queues: [a] }\n      - { queues: [a] }\n',
    ));
    assert.equal(problems.length, 4);
    assert.match(problems[0]!, /^services\.svc\.out\[0\]\.case: null is not a case/);
    assert.match(problems[1]!, /^services\.svc\.out\[1\]\.case: a list is not a case/);
    assert.match(problems[2]!, /^services\.svc\.out\[2\]\.case: a mapping is not a case/);
    assert.match(problems[3]!, /^services\.svc\.out\[3\]\.case: the case is missing/);
  });

  test('an integer beyond 64 bits', T, () => {
    const [p] = problemsOf(service('    out:\n      - { case: 18446744073709551616, queues: [a] }\n'));
    assert.match(p!, /out\[0\]\.case: 18446744073709551616 is outside the 64-bit integer range/);
  });

  test('a duplicate case in one service; typed cases are not duplicates of each other', T, () => {
    const problems = problemsOf(service(
      '    out:\n      - { case: true, queues: [a] }\n      - { case: 1, queues: [b] }\n      - { case: "1", queues: [c] }\n      - { case: 0x1, queues: [d] }\n      - { case: "true", queues: [e] }\n',
    ));
    assert.deepEqual(problems, [
      'services.svc.out[3].case: case 1 is already routed by out[1]; merge their queue lists into one entry (line 8)',
    ]);
  });

  test('the same case in two services is fine', T, () => {
    const m = parseSysMap('services:\n  a: { in: qa, out: [{ case: 1, queues: [x] }] }\n  b: { in: qb, out: [{ case: 1, queues: [y] }] }\n', 'm.yaml');
    assert.equal(m.services.size, 2);
  });

  test('an empty queue list and empty names', T, () => {
    const problems = problemsOf('services:\n  svc:\n    in: ""\n    out:\n      - { case: 1, queues: [] }\n      - { case: 2, queues: [""] }\n');
    assert.deepEqual(problems, [
      'services.svc.in: is empty; give it a name (line 3)',
      'services.svc.out[0].queues: is an empty list; give at least one (line 5)',
      'services.svc.out[1].queues[0]: is empty; give it a name (line 6)',
    ]);
  });

  test('an empty service name and a name with whitespace', T, () => {
    const problems = problemsOf('services:\n  "": { in: a }\n  "my svc": { in: b }\n');
    assert.equal(problems.length, 2);
    assert.match(problems[0]!, /^services\[""\]: service name is empty/);
    assert.match(problems[1]!, /^services\["my svc"\]: service name "my svc" contains whitespace/);
  });

  test('reserved service names: rabbitmq, object-storage, db', T, () => {
    const problems = problemsOf('services:\n  rabbitmq: { in: a }\n  object-storage: { in: b }\n  db: { in: c }\n');
    assert.equal(problems.length, 3);
    for (const [i, n] of ['rabbitmq', 'object-storage', 'db'].entries()) {
      assert.match(problems[i]!, new RegExp(`^services\\.${n}: "${n}" is a reserved endpoint name`));
    }
  });

  test('an alias pointing to a bucket that is not declared', T, () => {
    const [p, ...rest] = problemsOf(`${service('    buckets: { raw: raw-txts }\n')}buckets: [raw-texts, clean-texts]\n`);
    assert.equal(rest.length, 0);
    assert.equal(p, 'services.svc.buckets.raw: alias "raw" points to unknown bucket "raw-txts"; declared buckets: "raw-texts", "clean-texts"; add it to "buckets" or fix the name (line 4)');
  });

  test('an alias with a leading slash, an empty alias, an empty bucket name', T, () => {
    const problems = problemsOf(service('    buckets: { /raw: a, "": b, clean: "" }\n'));
    assert.equal(problems.length, 3);
    assert.ok(problems.some((p) => p.startsWith('services.svc.buckets["/raw"]: alias "/raw" starts or ends with "/"')));
    assert.ok(problems.some((p) => p.startsWith('services.svc.buckets[""]: alias is empty')));
    assert.ok(problems.some((p) => p.startsWith('services.svc.buckets.clean: is empty')));
  });

  test('unknown keys (typos) name the allowed ones; wrong types say what was found', T, () => {
    const problems = problemsOf('services:\n  svc:\n    inn: a\n    out: { case: 1 }\nrabbitmq: { host: h, port: 99999, user: u, pass: p }\n');
    assert.deepEqual(problems, [
      'services.svc.in: is missing; expected a string (line 3)',
      'services.svc.inn: unknown key; expected one of: in, out, buckets (line 3)',
      'services.svc.out: expected a list, got a mapping (line 4)',
      'rabbitmq.port: 99999 is not a TCP port; use 1-65535 (line 5)',
      'rabbitmq.username: is missing; expected a string (line 5)',
      'rabbitmq.user: unknown key; expected one of: host, port, username, pass (line 5)',
    ]);
  });

  test('all problems of a map come in one error', T, () => {
    const problems = problemsOf(`services:
  classify:
    in: classify-in
    out:
      - { case: 1, queues: [a] }
      - { case: 2.5, queues: [b] }
      - { case: 1, queues: [] }
    buckets: { raw: nope }
  db: { in: x }
buckets: [raw-texts]
`);
    assert.equal(problems.length, 5, problems.join('\n'));
  });

  test('YAML syntax errors and duplicate keys', T, () => {
    assert.match(problemsOf('services: [1\n')[0]!, /line 2/);
    assert.match(problemsOf('services:\n  a: { in: x }\n  a: { in: y }\n')[0]!, /Map keys must be unique at line 3/);
  });

  test('an empty file, and a file that is not a mapping', T, () => {
    assert.match(problemsOf('# nothing\n')[0]!, /the file is empty/);
    assert.deepEqual(problemsOf('[1, 2]\n', 'map.json'), ['(top level): expected a mapping, got a list (line 1)']);
  });

  test('a missing file', T, async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'switchyard-sysmap-'));
    try {
      await assert.rejects(loadSysMap(path.join(dir, 'absent.yaml')), (err: Error) =>
        err instanceof SwitchyardError && err.code === 'SY_ERR_SYSMAP_INVALID' && /absent\.yaml/.test(err.message) && /does not exist/.test(err.message));
      await fsp.writeFile(path.join(dir, 'm.yaml'), 'services:\n  a: { in: qa }\n');
      assert.equal((await loadSysMap(path.join(dir, 'm.yaml'))).services.get('a')!.in, 'qa');
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('look-ups', () => {
  const m = parseSysMap(VALID, 'map.yaml');

  test('queueConfigOf and bucketOf; an alias is trimmed of "/"', T, () => {
    assert.equal(queueConfigOf(m, 'ingest').in, 'ingest-in');
    assert.equal(bucketOf(m, 'ingest', '/raw/'), 'raw-texts');
  });

  test('an unknown service or alias names it and lists the known ones', T, () => {
    assert.throws(() => queueConfigOf(m, 'nope'), (err: Error) =>
      err instanceof SwitchyardError && err.code === 'SY_ERR_CONFIG_UNKNOWN'
      && err.message.includes('service "nope"') && err.message.includes('"ingest", "classify"'));
    assert.throws(() => bucketOf(m, 'ingest', 'clean'), (err: Error) =>
      err instanceof SwitchyardError && err.message.includes('bucket alias "clean"') && err.message.includes('known: "raw"'));
  });

  test('MapConfigSource answers like the configuration service', T, async () => {
    const src = new MapConfigSource(m);
    assert.deepEqual(await src.queueConfig('classify'), { in: 'classify-in', out: [] });
    assert.equal(await src.bucket('classify', 'clean'), 'clean-texts');
    assert.equal((await src.rabbitmq()).passwordRef, 'infra/rabbitmq/svc');
    assert.equal((await src.objectStorage()).accessKeyRef, 'infra/garage/access-key');
    await assert.rejects(src.bucket('ghost', 'raw'), /service "ghost"/);
    const bare = new MapConfigSource(parseSysMap('services: {}\n', 'bare.yaml'));
    await assert.rejects(bare.rabbitmq(), /system map bare\.yaml has no endpoint "rabbitmq"/);
    await assert.rejects(bare.objectStorage(), /has no endpoint "object-storage"/);
  });
});
