// Where `switchyard queues` and `switchyard dead-letters` find a transport's queues: a
// broker reached directly (RabbitMQ, Redis); for the memory transport (the embedded
// default), the state folder's broker socket, answered by the `run`/`dev` process hosting
// it, as `switchyard send` reaches it; or a running process's dashboard (--dashboard URL).

import { errors } from '../errors.js';
import { resolveSecret } from '../config/secrets.js';
import { loadSysMap } from '../config/sysmap.js';
import { viewOf } from '../runtime/dashboard/dead-letter-view.js';
import { DashboardDeadLetters, type DeadLetterTool } from '../runtime/dashboard/dashboard-client.js';
import type { DeadLetters } from '../transports/dead-letters.js';
import type { QueueLook } from '../transports/queue-look.js';
import { deadLetterQueueOf } from '../transports/transport.js';

export interface AccessFlags {
  readonly transport?: string;
  readonly dashboard?: string;
  readonly amqpUrl?: string;
  readonly amqpPassword?: string;
  readonly redisUrl?: string;
  readonly keyPrefix?: string;
  readonly map?: string;
  readonly queue?: string[];
  /** The state folder whose embedded broker to reach (memory), and a settings file naming it. */
  readonly stateDir?: string;
  readonly settings?: string;
}

export interface Access {
  readonly tool: DeadLetterTool;
  /** Undefined through a dashboard (it shows queue figures on its page). */
  readonly look?: QueueLook;
}

const env = (name: string) => process.env[name] || undefined;

export async function openAccess(flags: AccessFlags): Promise<Access> {
  const transport = flags.transport ?? env('SWITCHYARD_TRANSPORT') ?? 'memory';
  const dashboard = flags.dashboard ?? env('SWITCHYARD_DASHBOARD');
  if (dashboard) return { tool: new DashboardDeadLetters(dashboard, transport) };
  switch (transport) {
    case 'memory': {
      // The state folder as `send` finds it: --state-dir, SWITCHYARD_STATE_DIR, the settings file.
      const { loadSettings } = await import('./settings.js');
      const { stateDir } = loadSettings({ stateDir: flags.stateDir, settings: flags.settings });
      const [{ connectLocalBroker }, { BrokerDeadLetters }] = await Promise.all([
        import('../transports/memory/shared/local-broker.js'),
        import('../transports/memory/shared/broker-dead-letters.js'),
      ]);
      const d = new BrokerDeadLetters(await connectLocalBroker(stateDir));
      return { tool: toolOf(d), look: d };
    }
    case 'amqp': {
      const url = flags.amqpUrl ?? env('SWITCHYARD_AMQP_URL');
      if (!url) throw new errors.SY_ERR_USAGE('with --transport amqp, give --amqp-url amqp://user@host:port/vhost (or SWITCHYARD_AMQP_URL)');
      const queues = await knownQueues(flags);
      const { AmqpDeadLetters } = await import('../transports/amqp/amqp-dead-letters.js');
      const d = new AmqpDeadLetters({ url: await withPassword(url, flags.amqpPassword ?? env('SWITCHYARD_AMQP_PASSWORD')), queues: () => queues });
      return { tool: toolOf(d), look: d };
    }
    case 'redis': {
      const { RedisDeadLetters } = await import('../transports/redis/redis-dead-letters.js');
      const d = new RedisDeadLetters({ url: flags.redisUrl ?? env('SWITCHYARD_REDIS_URL') ?? 'redis://127.0.0.1:6379', ...(flags.keyPrefix ? { keyPrefix: flags.keyPrefix } : {}) });
      return { tool: toolOf(d), look: d };
    }
    default:
      throw new errors.SY_ERR_DEAD_LETTERS_UNSUPPORTED(transport);
  }
}

/** A DeadLetters as the CLI shows it (bodies as previews). */
export function toolOf(d: DeadLetters): DeadLetterTool {
  return {
    transport: d.transport,
    queues: () => d.queues(),
    peek: async (queue, limit) => (await d.peek(queue, { limit })).map(viewOf),
    retry: (q, id) => d.retry(q, id),
    retryAll: (q) => d.retryAll(q),
    discard: (q, id) => d.discard(q, id),
    discardAll: (q) => d.discardAll(q),
    close: () => d.close(),
  };
}

/** RabbitMQ cannot list queues: they come from --queue and from the system map's services. */
async function knownQueues(flags: AccessFlags): Promise<string[]> {
  const queues = new Set(flags.queue ?? []);
  const mapFile = flags.map ?? env('SWITCHYARD_MAP');
  if (mapFile) {
    const map = await loadSysMap(mapFile);
    for (const s of map.services.values()) {
      queues.add(s.in);
      for (const o of s.out) for (const q of o.queues) queues.add(q);
    }
  }
  if (queues.size === 0) throw new errors.SY_ERR_USAGE('RabbitMQ cannot list its queues: name them with --queue NAME (repeatable) or give --map sysmap.yaml');
  return [...queues].filter((q) => !q.endsWith(deadLetterQueueOf('')));
}

async function withPassword(url: string, ref: string | undefined): Promise<string> {
  if (!ref) return url;
  const u = new URL(url);
  u.password = encodeURIComponent((await resolveSecret(ref)).reveal());
  return u.toString();
}
