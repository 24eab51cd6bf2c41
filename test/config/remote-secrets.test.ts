// A configuration service is a peer: what it answers must not make a worker read local
// files or environment variables and hand them to a host the answer names (issue 17 #2).
// Values from a remote configuration service are GNU pass entry names only, as in
// slingshot; env: and file: references are honoured only in local files and flags.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { createStore, createTransport, lazyConfigSource } from '../../src/cli/environment.js';
import { loadSettings } from '../../src/cli/settings.js';
import { resolveEndpointSecret } from '../../src/config/secrets.js';
import { createLogger } from '../../src/observability/logger.js';

const T = { timeout: 20_000 };
const FILE_SENTINEL = 'FILESENTINEL0123456789';
const ENV_SENTINEL = 'ENVSENTINEL0123456789';
const ENV_NAME = 'SY_TEST_HOSTILE_SECRET';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('secrets named by a remote configuration service', () => {
  let dir: string;
  let secretFile: string;
  let capture: Server;
  let captureUrl: string;
  /** Every request the "S3 host" the hostile answer names received: method, url, headers. */
  const seen: string[] = [];
  let hostile: Server;
  let hostileUrl: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sy-remote-secrets-'));
    secretFile = join(dir, 'local-secret.txt');
    await writeFile(secretFile, `${FILE_SENTINEL}\n`);
    process.env[ENV_NAME] = ENV_SENTINEL;
    capture = createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${JSON.stringify(req.headers)}`);
      res.writeHead(403, { 'content-type': 'application/xml' }).end('<Error><Code>AccessDenied</Code></Error>');
    });
    captureUrl = await listen(capture);
    hostile = createServer((req, res) => {
      const answers: Record<string, unknown> = {
        '/object-storage': { host: [captureUrl], 'pass:access-key': [`file:${secretFile}`], 'pass:secret-key': [`env:${ENV_NAME}`] },
        '/rabbitmq': { host: ['127.0.0.1'], port: [5672], username: ['svc'], pass: [`file:${secretFile}`] },
      };
      const answer = answers[req.url ?? ''];
      if (!answer) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
    hostileUrl = await listen(hostile);
  });
  after(async () => {
    delete process.env[ENV_NAME];
    await new Promise((r) => capture?.close(r));
    await new Promise((r) => hostile?.close(r));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const refused = (err: unknown) => {
    const e = err as Error & { code?: string };
    assert.equal(e.code, 'SY_ERR_SECRET_REF', String(err));
    assert.match(e.message, /remote configuration service may only name GNU pass entries/);
    assert.match(e.message, new RegExp(`configuration service at ${hostileUrl.replace(/[.]/g, '\\.')}/`));
    assert.doesNotMatch(`${e.message} ${inspect(e)}`, new RegExp(`${FILE_SENTINEL}|${ENV_SENTINEL}`));
    return true;
  };

  it('a hostile /object-storage answer cannot make the worker read a file or an environment variable and send it out', T, async () => {
    const settings = loadSettings({ storage: 's3', configHost: hostileUrl }, {});
    const outcome = await createStore(settings, lazyConfigSource(settings)).then(async (store) => {
      // Before the fix the store was made with the file's content as its access key: use it once.
      await store.exists('bucket', '1').catch(() => undefined);
      await store.close?.();
      return 'a store was made';
    }, (err: unknown) => err);
    const leaked = seen.filter((line) => line.includes(FILE_SENTINEL) || line.includes(ENV_SENTINEL));
    assert.deepEqual(leaked, [], 'a local secret reached the host the answer named');
    assert.equal(seen.length, 0, 'nothing was sent to the host the answer named');
    refused(outcome);
  });

  it('a hostile /rabbitmq answer cannot make the worker read a file as the broker password', T, async () => {
    const settings = loadSettings({ transport: 'amqp', configHost: hostileUrl }, {});
    await assert.rejects(createTransport(settings, lazyConfigSource(settings), createLogger({ level: 'silent' })), refused);
  });

  it('pass entry names from a remote service still resolve with `pass show`, bare or as pass:NAME; paths out of the store are refused', T, async () => {
    const fakePass = join(dir, 'fake-pass');
    await writeFile(fakePass, '#!/bin/sh\n[ "$1" = show ] && echo "value-of-$2"\n');
    await chmod(fakePass, 0o755);
    const origin = { remoteUrl: `${hostileUrl}/rabbitmq` };
    const opts = { passBinary: fakePass, env: { ...process.env, PASSWORD_STORE_DIR: dir } };
    assert.equal((await resolveEndpointSecret('infra/rabbitmq/svc', origin, opts)).reveal(), 'value-of-infra/rabbitmq/svc');
    assert.equal((await resolveEndpointSecret('pass:infra/garage/key', origin, opts)).reveal(), 'value-of-infra/garage/key');
    await assert.rejects(resolveEndpointSecret('../../etc/shadow', origin, opts), /points outside the password store/);
    await assert.rejects(resolveEndpointSecret('/etc/shadow', origin, opts), /points outside the password store/);
    // Local configuration (a map file, flags) keeps every form.
    assert.equal((await resolveEndpointSecret(`file:${secretFile}`, {}, opts)).reveal(), FILE_SENTINEL);
    assert.equal((await resolveEndpointSecret(`env:${ENV_NAME}`, {}, opts)).reveal(), ENV_SENTINEL);
  });
});
