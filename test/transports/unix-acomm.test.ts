// acomm on the wire, byte for byte against SPECS.md §4.1–4.3: the 4-byte big-endian length
// prefix, Go's field names and order, the ack, the empty Response{}, URLs in Go's struct
// form, and frames that are cut, empty, oversize or not JSON.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decodeRequest, decodeResponse, encodeFrame, encodeRequest, encodeResponse, EMPTY_RESPONSE, FrameError, readJsonFrame,
  replyTo, toGoUrl, urlFromWire, validateRequest,
} from '../../src/transports/unix/mod.js';

const ID = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';
const GO_URL = '{"Scheme":"unix","Opaque":"","User":null,"Host":"","Path":"/tmp/mistify/response/x.sock","RawPath":"","RawQuery":"","Fragment":""}';

describe('acomm framing', () => {
  it('prefixes the JSON with its byte length as a 4-byte big-endian uint32', () => {
    const frame = encodeFrame('{"id":"é"}');
    assert.deepEqual([...frame.subarray(0, 4)], [0, 0, 0, 11]); // "é" is two bytes
    assert.equal(frame.subarray(4).toString('utf8'), '{"id":"é"}');
    const big = encodeFrame('x'.repeat(0x01020304));
    assert.deepEqual([...big.subarray(0, 4)], [1, 2, 3, 4]);
  });
});

describe('acomm JSON shapes', () => {
  it('writes the ack exactly as Go does: id, result null, stream_url null, error ""', () => {
    const ack = encodeResponse(replyTo(ID));
    assert.equal(ack, `{"id":"${ID}","result":null,"stream_url":null,"error":""}`);
    const frame = encodeFrame(ack);
    assert.equal(frame.readUInt32BE(0), 88);
    assert.equal(frame.length, 92);
    assert.deepEqual([...frame.subarray(0, 4)], [0, 0, 0, 88]);
  });

  it('writes the response listener\'s empty Response{}', () => {
    assert.equal(encodeResponse(EMPTY_RESPONSE), '{"id":"","result":null,"stream_url":null,"error":""}');
  });

  it('writes an error as a string and a stream URL in Go\'s url.URL struct form', () => {
    assert.equal(encodeResponse({ id: 'a', result: null, streamUrl: null, error: 'missing task' }), '{"id":"a","result":null,"stream_url":null,"error":"missing task"}');
    assert.equal(
      encodeResponse({ id: 'a', result: { n: 1 }, streamUrl: 'unix:///tmp/mistify/response/x.sock', error: '' }),
      `{"id":"a","result":{"n":1},"stream_url":${GO_URL},"error":""}`,
    );
  });

  it('writes the SPECS example request with "responsehook" (no underscore) as a Go URL object', () => {
    const json = encodeRequest({ id: ID, task: 'CPUInfo', responseHook: 'unix:///tmp/mistify/response/x.sock', args: { guest_id: 'abc' } });
    assert.equal(json, `{"id":"${ID}","task":"CPUInfo","responsehook":${GO_URL},"args":{"guest_id":"abc"}}`);
    assert.equal(JSON.stringify(toGoUrl('unix:///tmp/mistify/response/x.sock')), GO_URL);
  });

  it('reads URLs in Go\'s struct form (old and new field sets) and as plain strings', () => {
    assert.equal(urlFromWire(JSON.parse(GO_URL), 'responsehook'), 'unix:///tmp/mistify/response/x.sock');
    const newer = { Scheme: 'unix', Opaque: '', User: null, Host: '', Path: '/a b.sock', RawPath: '', OmitHost: false, ForceQuery: false, RawQuery: '', Fragment: '', RawFragment: '' };
    assert.equal(urlFromWire(newer, 'responsehook'), 'unix:///a%20b.sock');
    assert.equal(urlFromWire({ Scheme: 'http', Host: '127.0.0.1:8080', Path: '/hook', RawQuery: 'a=1' }, 'x'), 'http://127.0.0.1:8080/hook?a=1');
    assert.equal(urlFromWire('unix:///x.sock', 'x'), 'unix:///x.sock');
    assert.equal(urlFromWire(null, 'x'), null);
    assert.throws(() => urlFromWire(42, 'responsehook'), /"responsehook" must be a URL string or object/);
  });

  it('makes unix URLs that survive "?", "#" and spaces in the path', async () => {
    const { unixUrl, unixPathOf } = await import('../../src/transports/unix/mod.js');
    for (const path of ['/tmp/a b/c.sock', '/tmp/q?x#y.sock', '/tmp/100%.sock']) {
      assert.equal(unixPathOf(unixUrl(path)), path);
      assert.equal(unixPathOf(urlFromWire(toGoUrl(unixUrl(path)), 'x')!), path);
    }
  });

  it('reads a request and validates it with the original\'s three checks and texts', () => {
    const req = decodeRequest(JSON.parse(`{"id":"${ID}","task":"CPUInfo","responsehook":${GO_URL},"args":{"guest_id":"abc"}}`));
    assert.deepEqual(req, { id: ID, task: 'CPUInfo', responseHook: 'unix:///tmp/mistify/response/x.sock', args: { guest_id: 'abc' } });
    assert.equal(validateRequest(req), '');
    assert.equal(validateRequest(decodeRequest({ task: 't', responsehook: 'unix:///x' })), 'missing id');
    assert.equal(validateRequest(decodeRequest({ id: 'i', responsehook: 'unix:///x' })), 'missing task');
    assert.equal(validateRequest(decodeRequest({ id: 'i', task: 't' })), 'missing response hook');
    assert.equal(decodeRequest({ id: 'i', task: 't', responsehook: 'unix:///x' }).args, null);
    assert.throws(() => decodeRequest([1]), /must be a JSON object, got an array/);
    assert.throws(() => decodeRequest({ id: 5 }), /"id" must be a string/);
  });

  it('reads a response: "" is no error, a string is the error, anything else is refused', () => {
    assert.deepEqual(decodeResponse(JSON.parse('{"id":"a","result":null,"stream_url":null,"error":""}')), { id: 'a', result: null, streamUrl: null, error: '' });
    assert.equal(decodeResponse({ id: 'a', error: 'boom' }).error, 'boom');
    assert.equal(decodeResponse({ id: 'a', stream_url: JSON.parse(GO_URL) }).streamUrl, 'unix:///tmp/mistify/response/x.sock');
    assert.throws(() => decodeResponse({ id: 'a', error: { msg: 'x' } }), /"error" must be a string/);
  });
});

describe('reading frames from a socket', () => {
  let dir = '';
  let server: Server | undefined;
  const accepted: Socket[] = [];
  after(async () => {
    for (const s of accepted) s.destroy();
    server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A connected pair: what the test writes on `client` is read on `peer`. */
  async function pair(): Promise<{ client: Socket; peer: Socket }> {
    if (!server) {
      dir = await mkdtemp(join(tmpdir(), 'sy7-'));
      server = createServer((s) => accepted.push(s));
      await new Promise<void>((r) => server!.listen(join(dir, 'f.sock'), r));
    }
    const before = accepted.length;
    const client = connect(join(dir, 'f.sock'));
    await new Promise<void>((r) => client.once('connect', r));
    while (accepted.length === before) await new Promise((r) => setTimeout(r, 5));
    return { client, peer: accepted[accepted.length - 1]! };
  }

  it('reads a frame delivered one byte at a time', async () => {
    const { client, peer } = await pair();
    const reading = readJsonFrame(peer);
    const frame = encodeFrame('{"id":"abc","task":"T"}');
    for (const byte of frame) {
      client.write(Buffer.from([byte]));
      await new Promise((r) => setImmediate(r));
    }
    assert.deepEqual(await reading, { id: 'abc', task: 'T' });
    client.destroy();
  });

  async function problemOf(bytes: Buffer, options: { maxFrameBytes?: number; timeoutMs?: number; end?: boolean } = {}): Promise<FrameError> {
    const { client, peer } = await pair();
    const reading = readJsonFrame(peer, options);
    client.write(bytes);
    if (options.end !== false) client.end();
    const err = await reading.then(() => assert.fail('the frame was accepted'), (e: unknown) => e);
    client.destroy();
    assert.ok(err instanceof FrameError, String(err));
    assert.equal(err.code, 'SY_ERR_FRAME');
    return err;
  }

  it('refuses a zero length header as a bad length', async () => {
    const err = await problemOf(Buffer.from([0, 0, 0, 0]));
    assert.equal(err.problem, 'bad-length');
  });

  it('refuses a header cut short as a bad length', async () => {
    assert.equal((await problemOf(Buffer.from([0, 0]))).problem, 'bad-length');
  });

  it('refuses an oversize length without reading the body', async () => {
    const err = await problemOf(Buffer.from([0xff, 0xff, 0xff, 0xff]), { maxFrameBytes: 1024, end: false });
    assert.equal(err.problem, 'oversize');
    assert.match(err.message, /4294967295 bytes, more than the limit of 1024/);
  });

  it('refuses a body shorter than its header says as truncated', async () => {
    const frame = encodeFrame('{"id":"abc"}').subarray(0, 8);
    assert.equal((await problemOf(frame)).problem, 'truncated');
  });

  it('refuses a body that is not JSON', async () => {
    const err = await problemOf(encodeFrame('not json at all'));
    assert.equal(err.problem, 'not-json');
    assert.match(err.message, /15-byte body is not JSON/);
  });

  it('gives up on a frame that does not complete in time', async () => {
    const err = await problemOf(encodeFrame('{"id":"abc"}').subarray(0, 6), { timeoutMs: 100, end: false });
    assert.equal(err.problem, 'timeout');
  });
});
