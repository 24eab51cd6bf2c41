// The shared conformance suite against a real redis-server started for this file.
import { transportConformance } from '../conformance/transport-conformance.js';
import { RedisTransport } from '../../src/transports/redis/mod.js';
import { createLogger } from '../../src/observability/logger.js';
import { redisInstalled, startRedis, type RedisServer } from '../support/redis-server.js';

let server: RedisServer | undefined;

if (!redisInstalled() && process.env.CI) throw new Error('redis-server is not installed; .ci/run installs it');

if (redisInstalled()) {
  transportConformance('redis', {
    async create() {
      server = await startRedis();
      const t = new RedisTransport({ url: server.url, logger: createLogger({ level: 'silent' }) });
      await t.start();
      return t;
    },
    async teardown() {
      await server?.destroy();
    },
  });
}
