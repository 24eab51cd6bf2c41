export { AmqpTransport } from './amqp-transport.js';
export type { AmqpTransportOptions } from './amqp-transport.js';
export { AMQP_HEADERS, DEAD_LETTER_EXCHANGE, TOPIC_EXCHANGE, groupQueueOf, delayQueueOf } from './topology.js';
