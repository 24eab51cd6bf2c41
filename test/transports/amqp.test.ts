// The shared conformance suite against a real RabbitMQ started for this file.
import { transportConformance } from '../conformance/transport-conformance.js';
import { AmqpTransport } from '../../src/transports/amqp/mod.js';
import { createLogger } from '../../src/observability/logger.js';
import { requireRabbitMq, startRabbitMq, type RabbitMq } from '../support/rabbitmq-server.js';

let broker: RabbitMq | undefined;

requireRabbitMq();

{
  transportConformance('amqp', {
    async create() {
      broker = await startRabbitMq();
      const t = new AmqpTransport({ url: broker.url, logger: createLogger({ level: 'silent' }) });
      await t.start();
      return t;
    },
    async teardown() {
      await broker?.destroy();
    },
  });
}
