// switchyardjs/dashboard/redis: dead letters, queue figures and the dashboard probe on the Redis transport.
export { RedisDeadLetters } from '../../transports/redis/redis-dead-letters.js';
export type { RedisDeadLettersOptions } from '../../transports/redis/redis-dead-letters.js';
