// amqplib, loaded at the first connection: an optional peer dependency of switchyardjs, so a
// process that only imports the AMQP transport's module (the CLI does) neither loads nor
// needs it, and a missing one is SY_ERR_ADAPTER_MISSING naming `npm install amqplib`.

import { importAdapter } from '../../adapter-package.js';

let load: Promise<typeof import('amqplib')> | undefined;

export function loadAmqplib(): Promise<typeof import('amqplib')> {
  load ??= importAdapter('amqp', ['amqplib'], () => import('amqplib'));
  load.catch(() => (load = undefined));
  return load;
}
