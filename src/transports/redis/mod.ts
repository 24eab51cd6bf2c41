export { RedisTransport } from './redis-transport.js';
export type { RedisTransportOptions } from './redis-transport.js';
export { RedisNames, GROUP_OF_QUEUE, REDIS_HEADERS, groupQueueOf } from './names.js';
