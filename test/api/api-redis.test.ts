import { after } from 'node:test';
import { createLogger } from '../../src/observability/logger.js';
import { RedisBusTransport } from '../../src/transports/redis/bus/mod.js';
import { startRedis } from '../support/redis-server.js';
import { busConformance } from './bus-conformance.js';

const redis = await startRedis();
after(() => redis.destroy());
const logger = createLogger({ level: 'silent' });
busConformance('redis', { transport: () => new RedisBusTransport({ url: redis.url, logger }) });
