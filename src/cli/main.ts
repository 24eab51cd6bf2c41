// The `switchyard` command. Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration.

// Every command's module is imported when that command runs, not before: defining the
// commands (and printing --help) loads commander and these few files only, so `switchyard
// --help` and a memory-only worker load no AWS SDK, fastify, amqplib, ioredis or zeromq
// (test/package/lazy-loading.test.ts holds that).
import { Command, CommanderError, Option } from 'commander';
import { errors, exitCodeFor } from '../errors.js';
import type { LevelName } from '../observability/logger.js';
import { providerCommand } from './commands/provider.js';
import { normalizeServiceArgv } from './service-argv.js';
import { addServiceCommand } from './service-cli.js';
import { addObserveCommands } from './observe-cli.js';
import { withTaskServiceFlags } from './task-flags.js';

const out = (line: string) => process.stdout.write(`${line}\n`);

/** Flags of every command that runs services on the local folders; each also reads SWITCHYARD_* and --settings. */
function withLocalSettings(command: Command): Command {
  return command
    .option('--settings <file>', 'settings file (YAML or JSON); env SWITCHYARD_SETTINGS')
    .option('--storage-dir <dir>', 'folder of the fs object store (default .switchyard/storage); env SWITCHYARD_STORAGE_DIR')
    .option('--staging-dir <dir>', 'parent of per-message staging folders (default the OS temp folder)')
    .option('--staging-memory-bytes <n>', 'bytes of one output staged in memory before spilling to a file (default 1048576; 0 = always a file)')
    .option('--state-dir <dir>', 'where a running process leaves its inbox address (default .switchyard)')
    .option('--memory-queue-max-length <n>', 'memory transport: messages one queue holds before senders wait (default 100000); env SWITCHYARD_MEMORY_QUEUE_MAX_LENGTH')
    .option('--memory-queue-max-bytes <n>', 'memory transport: body bytes one queue holds before senders wait (default 67108864); env SWITCHYARD_MEMORY_QUEUE_MAX_BYTES')
    .addOption(new Option('--memory-queue-overflow <mode>', 'memory transport, past the bound: senders wait (back-pressure) or are refused (reject-publish); env SWITCHYARD_MEMORY_QUEUE_OVERFLOW').choices(['back-pressure', 'reject-publish']))
    .addOption(new Option('--log-level <level>', 'log level; env SWITCHYARD_LOG_LEVEL').choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']));
}

/** Plus where configuration comes from and which transport and store to use. */
function withSettings(command: Command): Command {
  return withLocalSettings(command)
    .option('--config-host <url>', 'configuration service, a URL or a host meaning https://host; env SWITCHYARD_CONFIG_HOST')
    .option('--rabbitmq-config-url <url>', 'where to GET the broker endpoint (default {config-host}/rabbitmq)')
    .option('--object-storage-config-url <url>', 'where to GET the object-storage endpoint (default {config-host}/object-storage)')
    .option('--config-max-response-bytes <n>', 'most bytes of one configuration-service answer read (default 1048576); env SWITCHYARD_CONFIG_MAX_RESPONSE_BYTES')
    .option('--map <file>', 'system-map file read in-process instead of a configuration service; env SWITCHYARD_MAP')
    .option('--queue-durable <bool>', 'declare queues the configuration says nothing about durable (true) or not (false); unset: use existing queues as they are, declare missing ones as slingshot does (non-durable); env SWITCHYARD_QUEUE_DURABLE')
    .option('--queue-arguments <json>', 'declaration arguments for those queues, e.g. \'{"x-queue-type":"quorum"}\'; env SWITCHYARD_QUEUE_ARGUMENTS')
    .addOption(new Option('--transport <name>', 'transport; env SWITCHYARD_TRANSPORT').choices(['memory', 'amqp']))
    .option('--amqp-url <url>', 'RabbitMQ URL without password (default: from the configuration service\'s /rabbitmq); env SWITCHYARD_AMQP_URL')
    .option('--amqp-password <ref>', 'secret reference for its password: pass:NAME, env:NAME or file:PATH; env SWITCHYARD_AMQP_PASSWORD')
    .addOption(new Option('--storage <name>', 'object store; env SWITCHYARD_STORAGE').choices(['fs', 's3']))
    .option('--s3-endpoint <url>', 'S3 endpoint (default: https://{host} from the configuration service\'s /object-storage); env SWITCHYARD_S3_ENDPOINT')
    .option('--s3-region <region>', 'S3 region (default garage); env SWITCHYARD_S3_REGION')
    .option('--s3-access-key <ref>', 'secret reference for the access key with --s3-endpoint; env SWITCHYARD_S3_ACCESS_KEY')
    .option('--s3-secret-key <ref>', 'secret reference for the secret key with --s3-endpoint; env SWITCHYARD_S3_SECRET_KEY');
}

export function buildProgram(): Command {
  const program = new Command('switchyard')
    .description('Run Switchyard services: queue workers with case routing, object storage and a configuration service.')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  withTaskServiceFlags(withSettings(program.command('run')))
    .description('start the services a module exports (worker(...), apiService(...) and taskService(...) definitions)')
    .argument('<module...>', 'TypeScript or JavaScript module(s) exporting services')
    .option('--bus-config <file|url>', 'bus configuration for API services (YAML/JSON, path or http(s) URL; default the embedded memory bus); env SWITCHYARD_BUS_CONFIG')
    .option('--service-name <name>', 'bus service name (listener groups are {service}-{listener}); env SWITCHYARD_SERVICE_NAME')
    .option('--process-name <name>', 'this process inside its listener groups; env SWITCHYARD_PROCESS_NAME')
    .option('--metrics-port <port>', 'serve Prometheus metrics at GET /metrics on 127.0.0.1:PORT; env SWITCHYARD_METRICS_PORT')
    .option('--instances <n|auto>', 'run N copies of this process under one supervisor (auto: one per core); each copy is one more consumer of its queues')
    .addHelpText('after', `
Examples:
  switchyard run worker.ts --map sysmap.yaml
  switchyard run worker.ts --map sysmap.yaml --transport amqp --amqp-url amqp://127.0.0.1 --instances auto
  switchyard run worker.ts --config-host http://127.0.0.1:7070 --metrics-port 9464
  SWITCHYARD_MAP=sysmap.yaml switchyard run ingest.ts classify.ts
  SERVICE_PORT=9090 ENGINE_URLS='["http://localhost:8080"]' switchyard run examples/text-stats-task/text-stats.ts`)
    .action(async (modules: string[], flags: Record<string, unknown>) => {
      const [{ loadSettings }, { createLogger }, { maybeSupervise }, { run }] = await Promise.all([
        import('./settings.js'), import('../observability/logger.js'), import('./instances.js'), import('./commands/run.js'),
      ]);
      const settings = loadSettings(flags);
      // Synchronous stdout: the signal handlers call process.exit, which would drop or reorder
      // lines still queued in pino's asynchronous stream (e.g. the last "message done").
      const logger = createLogger({ level: settings.logLevel, destination: 1 });
      const supervised = await maybeSupervise(modules, flags, settings, logger);
      process.exitCode = supervised ?? (await run(modules, { settings, logger, out, flags }));
    });

  // dev always runs the folder's sysmap.yaml on the embedded default: no transport or configuration flags.
  withLocalSettings(program.command('dev'))
    .description('run every service of a folder plus its sysmap.yaml on the embedded default, printing the flow')
    .argument('<dir>', 'folder with sysmap.yaml, service modules and an optional seed.yaml')
    .option('--until-idle', 'exit (0) once every message has been handled, after printing a summary')
    .option('--timeout <ms>', 'with --until-idle: exit 1 if still busy after this long', '60000')
    .addHelpText('after', `
Examples:
  switchyard dev examples/text-pipeline --until-idle
  switchyard dev examples/text-pipeline            # keeps running; in another terminal:
  switchyard send ingest-in 1 2 3`)
    .action(async (dir: string, flags: Record<string, unknown>) => {
      const [{ loadSettings }, { createLogger }, { dev }] = await Promise.all([import('./settings.js'), import('../observability/logger.js'), import('./commands/dev.js')]);
      const settings = loadSettings({ logLevel: 'warn', ...flags });
      const timeoutMs = Number(flags.timeout);
      if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new errors.SY_ERR_USAGE(`--timeout must be a positive number of milliseconds, got ${String(flags.timeout)}`);
      const logger = createLogger({ level: settings.logLevel, destination: 2 });
      process.exitCode = await dev(dir, { untilIdle: Boolean(flags.untilIdle), timeoutMs, settings, logger, out });
    });

  withSettings(program.command('send'))
    .description('send ids to a queue: through the broker, or to a running dev/run process on the memory transport')
    .argument('<queue>', 'queue name')
    .argument('<id...>', 'u64 ids, decimal')
    .addHelpText('after', `
Examples:
  switchyard send ingest-in 1 2 3
  switchyard send classify-in 18446744073709551615 --state-dir /tmp/sy
  switchyard send ingest-in 42 --transport amqp --amqp-url amqp://svc@127.0.0.1:5672 --amqp-password env:RABBIT_PASS`)
    .action(async (queue: string, ids: string[], flags: Record<string, unknown>) => {
      const [{ loadSettings }, { createLogger }, { send }] = await Promise.all([import('./settings.js'), import('../observability/logger.js'), import('./commands/send.js')]);
      const settings = loadSettings(flags);
      out(await send(queue, ids, settings, createLogger({ level: settings.logLevel === 'info' ? 'warn' : settings.logLevel, destination: 2 })));
    });

  withSettings(program.command('put'))
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
  providerCommand(program, out);
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
    logger: (await import('../observability/logger.js')).createLogger({ level: (flags.logLevel as LevelName | undefined) ?? 'warn', destination: 2 }),
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

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
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
