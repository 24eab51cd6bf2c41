// The `switchyard` command. Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration.

// Every command's module is imported when that command runs, not before: defining the
// commands (and printing --help) loads commander and the flag lists only, so `switchyard
// --help` and a memory-only worker load no AWS SDK, fastify, amqplib, ioredis or zeromq
// (test/package/lazy-loading.test.ts holds that).
import { Command, CommanderError, Option } from 'commander';
import { errors, exitCodeFor } from '../errors.js';
import type { LevelName } from '../observability/levels.js';
import { PROVIDER_DESCRIPTION } from './command-descriptions.js';
import { normalizeServiceArgv } from './service-argv.js';
import { addServiceCommand } from './service-cli.js';
import { addObserveCommands } from './observe-cli.js';
import { addFlags } from '../config/settings/flag-spec.js';
import { MODEL_FLAGS } from './models.js';
import { processFlags } from './process-flags.js';
import type { ProcessSettings } from './process-settings.js';

/** The logger, loaded with the command that uses it (pino is not needed to print help). */
const loggerModule = () => import('../observability/logger.js');

const out = (line: string) => process.stdout.write(`${line}\n`);


/**
 * `run` and `dev`: the process flags and every model's (the settings system turns them into
 * its flag layer); dev pins the transport to the embedded default.
 */
function systemCommand(command: Command, options: { embedded?: boolean } = {}): Command {
  command.option('--settings <file>', 'settings file (YAML or JSON): process keys at the top level, one mapping per model section; env SWITCHYARD_SETTINGS');
  const process = options.embedded ? processFlags.filter((f) => !EMBEDDED_PINNED.has(f.key)) : processFlags;
  return addFlags(command, [...process, ...Object.values(MODEL_FLAGS).flat()]);
}

/** What dev decides itself: the embedded default, the folder's own system map. */
const EMBEDDED_PINNED = new Set(['transport', 'amqpUrl', 'amqpPassword', 'configHost', 'rabbitmqConfigUrl', 'objectStorageConfigUrl', 'map']);

/** The one-shot commands (send, put): the process flags and a settings file. */
function withProcessSettings(command: Command): Command {
  command.option('--settings <file>', 'settings file (YAML or JSON); env SWITCHYARD_SETTINGS');
  return addFlags(command, processFlags.filter((f) => f.key !== 'metricsPort' && f.key !== 'dashboardPort'));
}

export function buildProgram(): Command {
  const program = new Command('switchyard')
    .description('Run Switchyard services: queue workers with case routing, object storage and a configuration service.')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  systemCommand(program.command('run'))
    .description('start the services the modules export, of any mix of models (worker(...), apiService(...), service(...), taskService(...)), until SIGINT/SIGTERM')
    .argument('<module...>', 'TypeScript or JavaScript module(s) exporting services')
    .option('--instances <n|auto>', 'run N copies of this process under one supervisor (auto: one per core); each copy is one more consumer of its queues')
    .addHelpText('after', `
Examples:
  switchyard run worker.ts --map sysmap.yaml
  switchyard run worker.ts --map sysmap.yaml --transport amqp --amqp-url amqp://127.0.0.1 --instances auto
  switchyard run worker.ts --config-host http://127.0.0.1:7070 --metrics-port 9464 --dashboard-port 7465
  switchyard run calc.ts --transport redis://127.0.0.1:6379 --service-name calc
  SWITCHYARD_MAP=sysmap.yaml switchyard run ingest.ts classify.ts
  SERVICE_PORT=9090 ENGINE_URLS='["http://localhost:8080"]' switchyard run examples/text-stats-task/text-stats.ts`)
    .action(async (modules: string[], flags: Record<string, unknown>) => {
      const [{ createLogger }, { maybeSupervise }, { run }] = await Promise.all([loggerModule(), import('./instances.js'), import('./commands/run.js')]);
      // Synchronous stdout: the signal handlers call process.exit, which would drop or reorder
      // lines still queued in pino's asynchronous stream (e.g. the last "message done").
      const logger = (settings: ProcessSettings) => createLogger({ level: settings.logLevel, destination: 1 });
      const supervised = await maybeSupervise(modules, flags, logger);
      process.exitCode = supervised ?? (await run(modules, { flags, logger, out }));
    });

  // dev always runs on the embedded default: no transport flags.
  systemCommand(program.command('dev'), { embedded: true })
    .description('run every service module of a folder (plus its sysmap.yaml) on the embedded default, printing the flow')
    .argument('<dir>', 'folder with service modules, an optional sysmap.yaml and an optional seed.yaml')
    .option('--until-idle', 'exit (0) once every message has been handled, after printing a summary')
    .option('--timeout <ms>', 'with --until-idle: exit 1 if still busy after this long', '60000')
    .option('--dashboard', 'serve the live dashboard (on --dashboard-port, default 7465) and keep running after --until-idle')
    .addHelpText('after', `
Examples:
  switchyard dev examples/text-pipeline --until-idle
  npm run demo -- --dashboard                                   # the demo, then its page at http://127.0.0.1:7465 until Ctrl-C
  switchyard dev examples/text-pipeline --dashboard-port 7465   # keeps running; open the page; in another terminal:
  switchyard send ingest-in 1 2 3`)
    .action(async (dir: string, flags: Record<string, unknown>) => {
      const [{ createLogger }, { dev }] = await Promise.all([loggerModule(), import('./commands/dev.js')]);
      const timeoutMs = Number(flags.timeout);
      if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new errors.SY_ERR_USAGE(`--timeout must be a positive number of milliseconds, got ${String(flags.timeout)}`);
      const logger = (settings: ProcessSettings) => createLogger({ level: flags.logLevel === undefined && !process.env.SWITCHYARD_LOG_LEVEL ? 'warn' : settings.logLevel, destination: 2 });
      process.exitCode = await dev(dir, { untilIdle: Boolean(flags.untilIdle), timeoutMs, flags, logger, out, dashboard: Boolean(flags.dashboard) });
    });

  withProcessSettings(program.command('send'))
    .description('send ids to a queue: through the broker, or to a running dev/run process on the memory transport')
    .argument('<queue>', 'queue name')
    .argument('<id...>', 'u64 ids, decimal')
    .addHelpText('after', `
Examples:
  switchyard send ingest-in 1 2 3
  switchyard send classify-in 18446744073709551615 --state-dir /tmp/sy
  switchyard send ingest-in 42 --transport amqp --amqp-url amqp://svc@127.0.0.1:5672 --amqp-password env:RABBIT_PASS`)
    .action(async (queue: string, ids: string[], flags: Record<string, unknown>) => {
      const [{ loadSettings }, { createLogger }, { send }] = await Promise.all([import('./settings.js'), loggerModule(), import('./commands/send.js')]);
      const settings = loadSettings(flags);
      out(await send(queue, ids, settings, createLogger({ level: settings.logLevel === 'info' ? 'warn' : settings.logLevel, destination: 2 })));
    });

  withProcessSettings(program.command('put'))
    .description('store a file as the input object <id> of a bucket alias')
    .argument('<alias>', 'bucket alias of --service (or a bucket name with --bucket)')
    .argument('<id>', 'u64 object id')
    .argument('<file>', 'file to upload')
    .option('--service <name>', 'the service whose alias this is (resolved through --map or --config-host)')
    .option('--bucket', 'treat <alias> as the bucket name itself')
    .addHelpText('after', `
Examples:
  switchyard put raw 1 input.txt --service ingest --map examples/text-pipeline/sysmap.yaml
  switchyard put raw-texts 1 input.txt --bucket`)
    .action(async (alias: string, id: string, file: string, flags: Record<string, unknown>) => {
      const [{ loadSettings }, { put }] = await Promise.all([import('./settings.js'), import('./commands/put.js')]);
      const settings = loadSettings(flags);
      out(await put({ alias, id, file, service: flags.service as string | undefined, bucket: Boolean(flags.bucket) }, settings));
    });

  program.command('config-server')
    .description('serve a system map as slingshot\'s configuration service (GET /{service}, /{service}/{alias}, /rabbitmq, /object-storage)')
    .requiredOption('--map <file>', 'system-map file (YAML or JSON)')
    .option('--port <port>', 'port to listen on', '7070')
    .option('--host <address>', 'address to bind', '127.0.0.1')
    .addHelpText('after', `
Examples:
  switchyard config-server --map sysmap.yaml --port 7070
  curl http://127.0.0.1:7070/ingest        # {"in":"ingest-in","out":[...]}
  curl http://127.0.0.1:7070/ingest/raw    # raw-texts`)
    .action(async (flags: { map: string; port: string; host: string }) => {
      const { configServerCommand } = await import('./commands/config-server.js');
      await configServerCommand(flags, out);
    });

  addBusTools(program);
  // The provider's flags come from the provider model's settings: its commands are defined
  // (and the model loaded) only when `provider` is the command given; otherwise --help lists it.
  program.command('provider').description(PROVIDER_DESCRIPTION);
  addServiceCommand(program);
  addObserveCommands(program, out);
  return program;
}

/** schema dump|load, inspect, shell, config schema: the bus tools (commands/bus-tools.ts). */
function addBusTools(program: Command): void {
  const busFlags = (command: Command) =>
    command
      .option('--bus-config <file|url>', 'bus configuration (YAML/JSON, path or http(s) URL); env SWITCHYARD_BUS_CONFIG')
      .option('--module <file...>', 'modules whose declared APIs to include')
      .addOption(new Option('--log-level <level>', 'log level').choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('warn'));
  const toolOptions = async (flags: Record<string, unknown>) => ({
    // SWITCHYARD_BUS_CONFIG, SWITCHYARD_API_BUS_CONFIG and LIGHTBUS_CONFIG are read with the api settings.
    busConfig: flags.busConfig as string | undefined,
    modules: (flags.module as string[] | undefined) ?? [],
    logger: (await loggerModule()).createLogger({ level: (flags.logLevel as LevelName | undefined) ?? 'warn', destination: 2 }),
    out,
  });
  const tools = () => import('./commands/bus-tools.js');
  const schema = program.command('schema').description('API schemas on the bus');
  busFlags(schema.command('dump'))
    .description('write every API schema (on the bus and in --module) as JSON: to stdout, a file, or one {api}.json per API into a folder')
    .option('--out <file|dir>', 'where to write (default stdout)')
    .action(async (flags: Record<string, unknown>) => {
      process.exitCode = await (await tools()).schemaDump({ ...(await toolOptions(flags)), ...(flags.out ? { outPath: flags.out as string } : {}) });
    });
  busFlags(schema.command('load'))
    .description('put schemas from a dump on the bus, so clients without the code validate against them')
    .argument('<file|dir>', 'a file written by `schema dump --out FILE`, or a folder of {api}.json')
    .option('--ttl <seconds>', 'how long they stay on the bus', '3600')
    .action(async (file: string, flags: Record<string, unknown>) => {
      const ttlS = Number(flags.ttl);
      if (!Number.isInteger(ttlS) || ttlS < 1) throw new errors.SY_ERR_USAGE(`--ttl must be a whole number of seconds ≥ 1, got ${String(flags.ttl)}`);
      process.exitCode = await (await tools()).schemaLoad(file, { ...(await toolOptions(flags)), ttlS });
    });
  busFlags(program.command('inspect'))
    .description('show the APIs on the bus with their RPCs and events, listener groups and recent events')
    .option('--json', 'print JSON')
    .action(async (flags: Record<string, unknown>) => {
      process.exitCode = await (await tools()).inspect({ ...(await toolOptions(flags)), json: Boolean(flags.json) });
    });
  busFlags(program.command('shell'))
    .description('a REPL with `bus` connected: await bus.api(NAME).call(RPC, params), .fire(EVENT, params)')
    .action(async (flags: Record<string, unknown>) => {
      process.exitCode = await (await tools()).shell(await toolOptions(flags));
    });
  program
    .command('config')
    .description('bus configuration')
    .command('schema')
    .description('print the JSON Schema of the bus configuration file')
    .option('--out <file>', 'write it to a file instead of stdout')
    .action(async (flags: { out?: string }) => {
      process.exitCode = await (await tools()).configSchema(flags.out, out);
    });
}

/** The command word of argv (node, script, then options before it are skipped); `help X` names X. */
function chosenCommand(argv: readonly string[]): string | undefined {
  const words = argv.slice(2).filter((a) => !a.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}

/** A program whose commands are all defined in full, the provider's too (for tools that read every flag). */
export async function buildFullProgram(): Promise<Command> {
  const program = buildProgram();
  await defineProvider(program);
  return program;
}

async function defineProvider(program: Command): Promise<void> {
  const stub = program.commands.find((c) => c.name() === 'provider');
  if (stub) (program.commands as Command[]).splice(program.commands.indexOf(stub), 1);
  (await import('./commands/provider.js')).providerCommand(program, out);
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    if (chosenCommand(argv) === 'provider') await defineProvider(program);
    await program.parseAsync(normalizeServiceArgv(argv));
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with code 0; every other commander error is usage.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    process.stderr.write(`switchyard: ${(err as Error).message}\n`);
    process.exitCode = exitCodeFor(err);
  }
}
