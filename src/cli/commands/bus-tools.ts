// Bus tools: `schema dump`, `schema load`, `inspect`, `shell`, `config schema`. Each
// connects a bus made from the api settings (the bus configuration with --bus-config, the
// SWITCHYARD_* and LIGHTBUS_* variables) on transports the registry opens; modules given with --module add the
// APIs they declare (exported defineApi(...) values or apiService(...) definitions).

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { statSync } from 'node:fs';
import { errors } from '../../errors.js';
import { isApi, isApiServiceDefinition, lightbusConfigJsonSchema, runner, type AnyApi } from '../../models/api/mod.js';
import { openBus } from '../../models/api/bus-from-settings.js';
import type { Logger } from '../../observability/logger.js';
import { TransportRegistry } from '../../runtime/registry.js';
import type { StoredSchema } from '../../transports/bus/bus-transport.js';
import { apiSettingsFromCli } from '../api-settings.js';
import { importModule } from '../load-services.js';

export interface BusToolOptions {
  readonly busConfig?: string | undefined;
  readonly modules?: readonly string[];
  readonly logger: Logger;
  readonly out: (line: string) => void;
}

async function apisOf(modules: readonly string[]): Promise<Record<string, AnyApi>> {
  const apis: Record<string, AnyApi> = {};
  for (const file of modules) {
    const mod = await importModule(file);
    for (const value of Object.values(mod)) {
      if (isApi(value)) apis[value.name] = value;
      if (isApiServiceDefinition(value)) for (const api of Object.values(value.apis)) apis[api.name] = api;
    }
  }
  return apis;
}

/** A bus connected as the api settings say (--bus-config, SWITCHYARD_* and LIGHTBUS_* variables); stop() closes its transports too. */
async function connect(options: BusToolOptions) {
  const settings = await apiSettingsFromCli(options.busConfig ? { busConfig: options.busConfig } : {}, { logger: options.logger });
  const declared = await apisOf(options.modules ?? []);
  const transports = new TransportRegistry({ logger: options.logger });
  try {
    const bus = await openBus({ settings, transport: settings.transport ?? runner.defaultTransport, transports, logger: options.logger, serviceName: 'switchyard-cli' });
    for (const api of Object.values(declared)) bus.declare(api);
    await bus.start();
    const stop = bus.stop.bind(bus);
    return Object.assign(bus, { stop: async () => { await stop(); await transports.close(); } });
  } catch (error) {
    await transports.close();
    throw error;
  }
}

const pretty = (v: unknown) => JSON.stringify(v, null, 2);

/** Writes `{api: schema}` to stdout, to a file, or one `{api}.json` per API into a folder. */
export async function schemaDump(options: BusToolOptions & { outPath?: string }): Promise<number> {
  const bus = await connect(options);
  try {
    const schemas = bus.schemas();
    if (!options.outPath) options.out(pretty(schemas));
    else if (isDirectory(options.outPath)) {
      for (const [api, schema] of Object.entries(schemas)) await writeFile(join(options.outPath, `${api}.json`), `${pretty(schema)}\n`);
      options.out(`wrote ${Object.keys(schemas).length} schema file(s) to ${options.outPath}`);
    } else {
      await writeFile(options.outPath, `${pretty(schemas)}\n`);
      options.out(`wrote ${Object.keys(schemas).length} API schema(s) to ${options.outPath}`);
    }
  } finally {
    await bus.stop();
  }
  return 0;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return path.endsWith('/');
  }
}

/** Puts schemas from a dump (one file of `{api: schema}`, or a folder of `{api}.json`) on the bus. */
export async function schemaLoad(file: string, options: BusToolOptions & { ttlS: number }): Promise<number> {
  const schemas: Record<string, StoredSchema> = {};
  const read = async (path: string) => JSON.parse(await readFile(path, 'utf8')) as unknown;
  try {
    if (isDirectory(file)) {
      const { readdir } = await import('node:fs/promises');
      for (const name of (await readdir(file)).filter((n) => n.endsWith('.json'))) schemas[name.slice(0, -5)] = (await read(join(file, name))) as StoredSchema;
    } else {
      const doc = (await read(file)) as Record<string, unknown>;
      if (doc && typeof doc === 'object' && 'rpcs' in doc && 'events' in doc) throw new errors.SY_ERR_USAGE(`${file} holds one API's schema without its name; name the file {api}.json inside a folder and load the folder`);
      Object.assign(schemas, doc);
    }
  } catch (error) {
    if ((error as { code?: string }).code?.startsWith?.('SY_ERR_')) throw error;
    throw new errors.SY_ERR_USAGE(`cannot read schemas from ${file}: ${(error as Error).message}; give a file written by \`switchyard schema dump --out FILE\``);
  }
  for (const [api, schema] of Object.entries(schemas)) {
    if (!schema || typeof schema !== 'object' || typeof schema.rpcs !== 'object' || typeof schema.events !== 'object') {
      throw new errors.SY_ERR_USAGE(`the schema of "${api}" in ${file} has no "rpcs" and "events" objects`);
    }
  }
  const bus = await connect(options);
  try {
    for (const [api, schema] of Object.entries(schemas)) await bus.storeSchemaOnBus(api, schema, options.ttlS);
    options.out(`stored ${Object.keys(schemas).length} API schema(s) on the bus for ${options.ttlS} s: ${Object.keys(schemas).join(', ')}`);
  } finally {
    await bus.stop();
  }
  return 0;
}

export async function inspect(options: BusToolOptions & { json: boolean }): Promise<number> {
  const bus = await connect(options);
  try {
    const report = { ...bus.describe(), activity: await bus.transportActivity() };
    if (options.json) {
      options.out(pretty(report));
      return 0;
    }
    for (const api of report.apis) {
      options.out(`API ${api.name}${api.local ? ' (declared here)' : ' (schema on the bus)'}`);
      options.out(`  rpcs:   ${api.rpcs.join(', ') || '-'}`);
      options.out(`  events: ${api.events.join(', ') || '-'}`);
    }
    for (const stream of report.activity) {
      options.out(`stream ${stream.stream}: ${stream.length} entries`);
      for (const g of stream.groups) options.out(`  listener group ${g.name}: ${g.consumers} member(s), ${g.pending} pending`);
      for (const e of stream.recent) options.out(`  recent ${e.nativeId} ${e.api}.${e.event} ${JSON.stringify(e.kwargs)}`);
    }
    if (report.apis.length === 0) options.out('no APIs on the bus (schemas expire when their services stop); pass --module to show declared ones');
  } finally {
    await bus.stop();
  }
  return 0;
}

export async function shell(options: BusToolOptions): Promise<number> {
  const bus = await connect(options);
  options.out(`bus connected as service "${bus.serviceName}". Try: await bus.api('my_company.auth').call('check_password', { username: 'a', password: 'b' })`);
  options.out(`APIs: ${Object.keys(bus.schemas()).join(', ') || '(none yet)'}; .exit to leave`);
  // Imported here, not at the top: node:repl loads node:domain, which slows every event
  // emitter of every process the CLI starts (a provider's sockets among them).
  const { start: startRepl } = await import('node:repl');
  const repl = startRepl({ prompt: 'switchyard> ' });
  repl.context.bus = bus;
  // Input piped in may reach ".exit" while an awaited call is still running: let it finish.
  let inFlight = 0;
  let drained: (() => void) | undefined;
  const evaluate = repl.eval;
  (repl as { eval: typeof evaluate }).eval = (code, context, file, callback) => {
    inFlight++;
    evaluate.call(repl, code, context, file, (err, result) => {
      inFlight--;
      callback(err, result);
      if (inFlight === 0) drained?.();
    });
  };
  await new Promise<void>((resolve) => repl.on('exit', () => resolve()));
  if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
  await bus.stop();
  return 0;
}

export async function configSchema(outPath: string | undefined, out: (line: string) => void): Promise<number> {
  const text = pretty(lightbusConfigJsonSchema());
  if (outPath) {
    await mkdir(join(outPath, '..'), { recursive: true }).catch(() => undefined);
    await writeFile(outPath, `${text}\n`);
  } else out(text);
  return 0;
}
