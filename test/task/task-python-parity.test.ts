// Parity with the reference service's Python: input media types from Python's own
// mimetypes table, and 422s for bodies that are not JSON exactly as FastAPI reports them
// from Python's json module (message, character offset), compared with the python3 of
// this machine. Nothing of a request body reaches a 422, a 400 or a log line.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mediaTypeOfKey } from '../../src/models/task/mod.js';
import { PYTHON_TYPES_MAP } from '../../src/models/task/python-mimetypes-table.js';
import { serviceTaskSchema } from '../../src/models/task/mod.js';
import { serviceTaskErrors } from '../../src/models/task/fastapi-errors.js';
import { post, startService, upperService, type Service } from './harness.js';
import { pythonGuessTypes, pythonJsonOutcomes, pythonTypesMap } from './python.js';

describe('input media types come from Python\'s mimetypes table', () => {
  it('the built-in table is Python\'s, entry for entry', () => {
    assert.deepEqual(Object.fromEntries(PYTHON_TYPES_MAP), pythonTypesMap());
  });

  it('guess_type as Python: .srt .bat .c .h .ksh .pl are text/plain, .mp2 audio/mpeg; .text and .oga are nothing', () => {
    assert.deepEqual(['a.srt', 'a.bat', 'a.c', 'a.h', 'a.ksh', 'a.pl'].map(mediaTypeOfKey), Array(6).fill('text/plain'));
    assert.equal(mediaTypeOfKey('a.mp2'), 'audio/mpeg');
    assert.equal(mediaTypeOfKey('a.text'), undefined);
    assert.equal(mediaTypeOfKey('a.oga'), undefined);
    const keys = [
      'a.srt', 'a.bat', 'a.c', 'a.h', 'a.ksh', 'a.pl', 'a.mp2', 'a.text', 'a.oga', 'a.ogg', 'a.TXT', 'a.Txt', 'x/y/photo.JPG', 'a.jpe', 'a.jfif',
      'notes.txt.gz', 'notes.txt.GZ', 'a.tgz', 'a.TGZ', 'a.tar.gz', 'a.svgz', 'a.png.Z', 'a.png.br', 'a.json.bz2', 'a.csv.xz',
      '.png', 'x/.png', '..png', 'a..png', 'a.', 'no-extension', 'dir.d/file', 'a.png/', 'a.png?x=1', 'a.png#f',
      'data:text/plain,hi', 'data:image/png;base64,xx', 'data:,x', 'data:a=b,x', 'data:nocomma', 'DATA:image/png,x',
      'http://h/a.png', 's3://b/a.pdf', 'c:a.zip', ':a.zip', 'a:b/c.csv', 'é.mp3', 'a.MP3', 'archive.ZIP', 'doc.Pdf', 'x.jpeg', 'x.json',
    ];
    const python = pythonGuessTypes(keys);
    assert.deepEqual(keys.map((k) => mediaTypeOfKey(k) ?? ''), python, 'guessType matches Python key for key');
  });
});

describe('a body that is not JSON: FastAPI\'s 422 from Python\'s json module', () => {
  let svc: Service;
  before(async () => {
    svc = await startService(upperService);
  });
  after(() => svc.stop());

  /** Malformed bodies, and a seeded random set of mutations of a real ServiceTask. */
  function corpus(): string[] {
    const fixed = [
      '   ', '\n\t ', '{', '{"a"', '{"a":', '{"a":}', '{"a" 1}', '{"a":1,}', '{"a":1 "b":2}', '{a:1}', '[', '[1,]', '[1 2]', 'tru', 'True',
      '"abc', '"a\\', '"a\\x"', '"a\\u12"', '"a\\u12zz"', '"a\nb"', '1 2', '01', '-', '1.', '1e+', '-Inf', '{} x', '{"a":"😀", x}',
      '"😀😀" x', '{"s3_secret_access_key":"Zx9!q","b":tru}', '\ufeff\ufeff{}', '{"a":"\\ud83d\\u0041"}x', '{"a":"\\ud83dx"', 'nul', 'NaNx',
    ];
    const seed = JSON.stringify({ s3_access_key_id: 'AK', s3_secret_access_key: 'SK', s3_region: 'r', task: { id: '76ba4e6a-3b8a-4bda-8407-6eaf5a8e1100', data_in: ['a.txt', 'é😀'], n: -1.5e3, ok: [true, false, null] } });
    const alphabet = ['{', '}', '[', ']', '"', ':', ',', ' ', '\n', '\\', 'u', '0', '1', '-', 'e', '.', 'n', 't', 'N', 'I', '😀', '\t', '\u0001', '\\ud83d'];
    let state = 42;
    const rand = (n: number) => (state = (state * 1103515245 + 12345) & 0x7fffffff) % n;
    const mutated: string[] = [];
    for (let i = 0; i < 300; i++) {
      let s = seed;
      for (let e = 0; e <= rand(3); e++) {
        const at = rand(s.length + 1);
        const op = rand(3);
        s = op === 0 ? s.slice(0, at) + s.slice(at + 1 + rand(3)) : op === 1 ? s.slice(0, at) + alphabet[rand(alphabet.length)] + s.slice(at) : s.slice(0, at);
      }
      mutated.push(s);
    }
    return [...fixed, ...mutated];
  }

  it('every malformed body gets json_invalid with Python\'s message and character offset (whitespace-only included)', async () => {
    const bodies = corpus();
    const expected = pythonJsonOutcomes(bodies);
    let compared = 0;
    for (let i = 0; i < bodies.length; i++) {
      const outcome = expected[i]!;
      // A mutation that is still JSON is a model error, not this test's; an empty body is "missing" to FastAPI.
      if (outcome === 'OK' || bodies[i] === '') continue;
      const res = await post(`${svc.url}/compute`, bodies[i]!);
      const [msg, pos] = outcome.split('|');
      assert.equal(res.status, 422, `${JSON.stringify(bodies[i])}: ${res.text}`);
      assert.deepEqual(res.json, { detail: [{ type: 'json_invalid', loc: ['body', Number(pos)], msg: 'JSON decode error', input: {}, ctx: { error: msg } }] }, JSON.stringify(bodies[i]));
      compared++;
    }
    assert.ok(compared > 150, `compared ${compared} malformed bodies`);
  });

  it('whitespace only is json_invalid "Expecting value" at its end, as FastAPI (not a missing body)', async () => {
    const res = await post(`${svc.url}/compute`, '   ');
    assert.deepEqual(res.json, { detail: [{ type: 'json_invalid', loc: ['body', 3], msg: 'JSON decode error', input: {}, ctx: { error: 'Expecting value' } }] });
  });

  it('SECURITY: the 422 for malformed JSON repeats nothing of the body (the secret key in it included), and nothing is logged', async () => {
    const before = svc.logs.length;
    const res = await post(`${svc.url}/compute`, '{"s3_secret_access_key":"Zx9!q","b":tru}');
    assert.equal(res.status, 422);
    assert.deepEqual(res.json, { detail: [{ type: 'json_invalid', loc: ['body', 36], msg: 'JSON decode error', input: {}, ctx: { error: 'Expecting value' } }] });
    assert.doesNotMatch(res.text, /Zx9|tru|"b"/);
    assert.doesNotMatch(svc.logs.slice(before).join(''), /Zx9/);
  });

  it('content types: JSON without one, with application/json (any parameters) or application/*+json; any other is refused as FastAPI does', async () => {
    const invalid = { type: 'json_invalid', loc: ['body', 1], msg: 'JSON decode error', input: {}, ctx: { error: 'Expecting property name enclosed in double quotes' } };
    for (const ct of [undefined, '', 'application/json', 'Application/JSON; charset=utf-8', 'application/merge-patch+json', ' application/json ;x=1']) {
      // Bytes, so that fetch adds no content type of its own.
      const res = await fetch(`${svc.url}/compute`, { method: 'POST', body: Buffer.from('{x'), headers: ct === undefined ? {} : { 'content-type': ct } });
      const body = await res.json() as { detail: unknown[] };
      assert.equal(res.status, 422, String(ct));
      assert.deepEqual(body.detail, [invalid], `content-type ${JSON.stringify(ct)} is read as JSON`);
    }
    const secretBody = JSON.stringify({ s3_access_key_id: 'AKIA-IN-TEXT', s3_secret_access_key: 'secret-in-text-body' });
    for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'json', 'application/json/x', 'application/jsonx', 'multipart/form-data; boundary=x']) {
      const res = await fetch(`${svc.url}/compute`, { method: 'POST', body: secretBody, headers: { 'content-type': ct } });
      const text = await res.text();
      assert.equal(res.status, 422, ct);
      assert.deepEqual(JSON.parse(text), { detail: [{ type: 'model_attributes_type', loc: ['body'], msg: 'Input should be a valid dictionary or object to extract fields from', input: '[redacted]' }] }, ct);
      assert.doesNotMatch(text, /secret-in-text-body|AKIA/);
    }
  });

  it('bytes that are not text in the encoding Python detects: 400 "There was an error parsing the body"; UTF-16 and a UTF-8 BOM are read', async () => {
    const bad = await fetch(`${svc.url}/compute`, { method: 'POST', body: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]), headers: { 'content-type': 'application/json' } });
    assert.equal(bad.status, 400);
    assert.deepEqual(await bad.json(), { detail: 'There was an error parsing the body' });
    for (const body of [Buffer.from('\ufeff[1]', 'utf8'), Buffer.from('\ufeff[1]', 'utf16le'), Buffer.from('[1]', 'utf16le')]) {
      const res = await fetch(`${svc.url}/compute`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      const json = await res.json() as { detail: { type: string; input: unknown }[] };
      assert.equal(json.detail[0]!.type, 'model_attributes_type', 'decoded and parsed: a list, not a ServiceTask');
    }
  });
});

describe('what a 422 shows of the body', () => {
  it('never the credentials, nor strings of undeclared fields (a misspelt secret key), nor a body that is not an object', () => {
    const body = { s3_access_key_id: 'AK', s3_secret_acces_key: 'typo-secret', s3_region: 'r', s3_host: 'http://u:pw@minio:9000', s3_bucket: 'b', task: { id: '76ba4e6a-3b8a-4bda-8407-6eaf5a8e1100', data_in: ['a.txt'], status: 'pending', service_id: 'x', extra: { deep: 'hidden' } }, callback_url: 'ftp://cb' };
    const result = serviceTaskSchema.safeParse(body);
    const entries = serviceTaskErrors(result.error!, body);
    const text = JSON.stringify(entries);
    assert.doesNotMatch(text, /typo-secret|hidden|pw@|"AK"/);
    const missingSecret = entries.find((e) => e.loc.join('.') === 'body.s3_secret_access_key')!;
    assert.equal(missingSecret.type, 'missing');
    assert.deepEqual(missingSecret.input, { s3_access_key_id: '[redacted]', s3_secret_acces_key: '[redacted]', s3_region: 'r', s3_host: 'http://***@minio:9000', s3_bucket: 'b', task: { id: '76ba4e6a-3b8a-4bda-8407-6eaf5a8e1100', data_in: ['a.txt'], status: 'pending', service_id: 'x', extra: '[redacted]' }, callback_url: 'ftp://cb' });
    assert.equal(entries.find((e) => e.loc.join('.') === 'body.task.service_id')!.input, 'x', 'a declared field\'s value is shown');
    const list = [{ s3_secret_access_key: 'in-a-list' }];
    const listErrors = serviceTaskErrors(serviceTaskSchema.safeParse(list).error!, list);
    assert.deepEqual(listErrors.map((e) => [e.type, e.input]), [['model_attributes_type', '[redacted]']]);
  });
});
