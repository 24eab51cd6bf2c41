// Broker and storage endpoints from the configuration service (slingshot's /rabbitmq and
// /object-storage), secrets from references: the wiring `switchyard run` uses.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { createStore, createTransport } from '../../src/cli/environment.js';
import { loadSettings } from '../../src/cli/settings.js';
import { MapConfigSource, parseSysMap } from '../../src/config/sysmap.js';
import { createLogger } from '../../src/observability/logger.js';
import { requireRabbitMq, startRabbitMq, type RabbitMq } from '../support/rabbitmq-server.js';
import { startS3Server, type S3Server } from '../support/s3-server.js';

requireRabbitMq();

const T = { timeout: 30_000 };
const logger = createLogger({ level: 'silent' });

describe('environment from the configuration service', () => {
  let broker: RabbitMq;
  let s3: S3Server;
  before(async () => {
    broker = await startRabbitMq();
    s3 = await startS3Server({ buckets: ['env-bucket'] });
  });
  after(async () => {
    await broker?.destroy();
    await s3?.close();
  });

  const mapWith = (password: string) => new MapConfigSource(parseSysMap(`
services: { s: { in: s-in } }
rabbitmq: { host: 127.0.0.1, port: ${broker.port}, username: guest, pass: "env:SY_TEST_RABBIT_PASS" }
object-storage: { host: "${s3.endpoint}", access-key: "env:SY_TEST_S3_ACCESS", secret-key: "env:SY_TEST_S3_SECRET" }
`, `env-${password}.yaml`));

  it('connects to the broker GET /rabbitmq names, with the password from its secret reference', T, async () => {
    process.env.SY_TEST_RABBIT_PASS = 'guest';
    const config = mapWith('guest');
    const transport = await createTransport(loadSettings({ transport: 'amqp' }, {}), async () => config, logger);
    await transport.start();
    await transport.send('env-check', { body: Buffer.from('1') });
    await transport.close();
  });

  it('a wrong password fails to connect, and the error never shows it', T, async () => {
    process.env.SY_TEST_RABBIT_PASS = 'wrong-Pa55word';
    const config = mapWith('wrong');
    const transport = await createTransport(loadSettings({ transport: 'amqp' }, {}), async () => config, createLogger({ level: 'silent' }));
    await assert.rejects(
      Promise.race([transport.start(), new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 20 s')), 20_000))]),
      (err: Error) => {
        assert.doesNotMatch(`${err.message} ${inspect(err)}`, /wrong-Pa55word/);
        assert.match(err.message, /SY_ERR_BROKER/);
        return true;
      },
    );
    await transport.close().catch(() => undefined);
  });

  it('builds the S3 store from GET /object-storage with keys from secret references', T, async () => {
    process.env.SY_TEST_S3_ACCESS = s3.accessKeyId;
    process.env.SY_TEST_S3_SECRET = s3.secretAccessKey;
    const store = await createStore(loadSettings({ storage: 's3' }, {}), async () => mapWith('s3'));
    try {
      assert.equal(store.name, 's3');
      assert.equal(await store.exists('env-bucket', '1'), false);
    } finally {
      await store.close?.();
    }
  });
});
