// The commands that look at a system rather than run it: `dashboard`, `topology`,
// `queues` and `dead-letters`. Each loads what it needs when it runs, so `switchyard
// --help` loads none of it (no fastify, no layout library, no broker client).

import { Command, Option } from 'commander';
import { errors } from '../errors.js';
import type { AccessFlags } from './dead-letter-access.js';

type Out = (line: string) => void;

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Where queues and dead letters are read: a broker, the state folder's embedded broker, or a running process's dashboard. */
function withAccess(command: Command): Command {
  return command
    .addOption(new Option('--transport <name>', 'transport holding the queues; env SWITCHYARD_TRANSPORT').choices(['memory', 'amqp', 'redis']))
    .option('--state-dir <dir>', 'memory: the state folder whose embedded broker to reach, as `run`/`dev` there host it (default .switchyard); env SWITCHYARD_STATE_DIR')
    .option('--settings <file>', 'settings file (its stateDir); env SWITCHYARD_SETTINGS')
    .option('--dashboard <url>', 'a running process\'s dashboard (http://127.0.0.1:PORT): its transports; env SWITCHYARD_DASHBOARD')
    .option('--amqp-url <url>', 'RabbitMQ URL; env SWITCHYARD_AMQP_URL')
    .option('--amqp-password <ref>', 'secret reference for its password: pass:NAME, env:NAME or file:PATH; env SWITCHYARD_AMQP_PASSWORD')
    .option('--redis-url <url>', 'Redis URL (default redis://127.0.0.1:6379); env SWITCHYARD_REDIS_URL')
    .option('--key-prefix <prefix>', 'the Redis transport\'s key prefix (default sy:)')
    .option('--map <file>', 'system map: the queues to look at on RabbitMQ (which cannot list them); env SWITCHYARD_MAP')
    .option('--queue <name>', 'a queue to look at on RabbitMQ (repeatable)', collect);
}

async function withTool<T>(flags: AccessFlags, fn: (access: Awaited<ReturnType<typeof import('./dead-letter-access.js').openAccess>>) => Promise<T>): Promise<T> {
  const { openAccess } = await import('./dead-letter-access.js');
  const access = await openAccess(flags);
  try {
    return await fn(access);
  } finally {
    await access.tool.close();
  }
}

function limitOf(text: string | undefined): number {
  const n = Number(text ?? 20);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new errors.SY_ERR_USAGE(`--limit must be a whole number from 1 to 10000, got ${String(text)}`);
  return n;
}

export function addObserveCommands(program: Command, out: Out): void {
  program.command('dashboard')
    .description('serve the dashboard: topology of a system map, queue depths and dead letters (retry, discard) of a broker')
    .argument('[dir|map]', 'folder with sysmap.yaml, a system-map file, or a components file (see `topology`)')
    .option('--port <port>', 'port (0: any free one)', '7465')
    .option('--host <address>', 'address to bind (default 127.0.0.1; anything else exposes retry/discard to that network)')
    .addOption(new Option('--transport <name>', 'broker whose queues and dead letters to show').choices(['memory', 'amqp', 'redis']))
    .option('--amqp-url <url>', 'RabbitMQ URL; env SWITCHYARD_AMQP_URL')
    .option('--amqp-password <ref>', 'secret reference for its password; env SWITCHYARD_AMQP_PASSWORD')
    .option('--redis-url <url>', 'Redis URL; env SWITCHYARD_REDIS_URL')
    .option('--key-prefix <prefix>', 'the Redis transport\'s key prefix (default sy:)')
    .option('--queue <name>', 'another queue to watch on RabbitMQ (repeatable)', collect)
    .addHelpText('after', `
Examples:
  switchyard dashboard examples/text-pipeline                       # the topology, on http://127.0.0.1:7465
  switchyard dashboard sysmap.yaml --transport amqp --amqp-url amqp://guest:guest@127.0.0.1:5672
  switchyard dashboard --transport redis --redis-url redis://127.0.0.1:6379`)
    .action(async (input: string | undefined, flags: Record<string, unknown>) => {
      const { dashboardCommand } = await import('./commands/dashboard.js');
      process.exitCode = await dashboardCommand(input, flags, out);
    });

  program.command('topology')
    .description('draw the topology of a system as SVG, Mermaid or Graphviz DOT, without running it')
    .argument('<dir|map>', 'folder with sysmap.yaml, a system-map file, or a components file ({components: [{model, service, transport, inputs, outputs}]})')
    .addOption(new Option('--format <format>', 'picture format').choices(['svg', 'mermaid', 'dot']).default('svg'))
    .option('--out <file>', 'write to a file instead of stdout')
    .addHelpText('after', `
Examples:
  switchyard topology examples/text-pipeline --out pipeline.svg
  switchyard topology sysmap.yaml --format mermaid >> docs/architecture.md
  switchyard topology sysmap.yaml --format dot | dot -Tpng > topology.png`)
    .action(async (input: string, flags: { format?: string; out?: string }) => {
      const { topologyCommand } = await import('./commands/topology.js');
      process.exitCode = await topologyCommand(input, flags, out);
    });

  withAccess(program.command('queues'))
    .description('list queues with messages waiting, consumers and dead letters (RabbitMQ: the queues of --map/--queue)')
    .option('--json', 'print JSON')
    .addHelpText('after', `
Examples:
  switchyard queues --transport redis --redis-url redis://127.0.0.1:6379
  switchyard queues --transport amqp --amqp-url amqp://guest:guest@127.0.0.1:5672 --map sysmap.yaml
  switchyard queues                                       # the embedded default: the run/dev process of .switchyard
  switchyard queues --state-dir /tmp/sy                   # ... of another state folder
  switchyard queues --dashboard http://127.0.0.1:7465     # a running process's dashboard`)
    .action(async (flags: AccessFlags & { json?: boolean }) => {
      const { listQueues } = await import('./commands/dead-letters.js');
      process.exitCode = await withTool(flags, (access) => listQueues(access, Boolean(flags.json), out));
    });

  const dead = program.command('dead-letters').description('dead letters: list the queues holding them, peek, retry (back to the source queue), discard');
  withAccess(dead.command('list'))
    .description('queues that hold dead letters, with how many')
    .option('--json', 'print JSON')
    .action(async (flags: AccessFlags & { json?: boolean }) => {
      const { listDeadLetters } = await import('./commands/dead-letters.js');
      process.exitCode = await withTool(flags, (access) => listDeadLetters(access.tool, Boolean(flags.json), out));
    });
  withAccess(dead.command('peek'))
    .description('show dead letters of a queue (reason, attempts, source, body) without taking them')
    .argument('<queue>', 'the source queue (or its .dead-letter queue)')
    .option('--limit <n>', 'most shown, oldest first', '20')
    .option('--json', 'print JSON')
    .action(async (queue: string, flags: AccessFlags & { json?: boolean; limit?: string }) => {
      const { peekDeadLetters } = await import('./commands/dead-letters.js');
      const limit = limitOf(flags.limit);
      process.exitCode = await withTool(flags, (access) => peekDeadLetters(access.tool, queue, limit, Boolean(flags.json), out));
    });
  for (const action of ['retry', 'discard'] as const) {
    withAccess(dead.command(action))
      .description(action === 'retry' ? 'send dead letters back to the queue they came from (a fresh count of tries)' : 'delete dead letters for good')
      .argument('<queue>', 'the source queue (or its .dead-letter queue)')
      .argument('[id...]', 'ids shown by peek')
      .option('--all', `${action} every dead letter of the queue`)
      .action(async (queue: string, ids: string[], flags: AccessFlags & { all?: boolean }) => {
        const { actOnDeadLetters } = await import('./commands/dead-letters.js');
        process.exitCode = await withTool(flags, (access) => actOnDeadLetters(access.tool, action, queue, ids, Boolean(flags.all), out));
      });
  }
}
