// switchyardjs/dashboard/amqp: dead letters, queue figures and the dashboard probe on RabbitMQ.
export { AmqpDeadLetters } from '../../transports/amqp/amqp-dead-letters.js';
export type { AmqpDeadLettersOptions } from '../../transports/amqp/amqp-dead-letters.js';
