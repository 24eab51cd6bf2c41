// Mistakes a user makes with the API model, answered with what to do (issue 15):
// listeners under a generated service name (events "lost" across a restart), the RPC
// timeout's setting named as the user can set it, and apiService({ apis: { calc } }).

import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { envLayer, resolveSettings } from '../../src/config/settings/settings.js';
import { apiService, apiSettingsSection, createBus, defineApi, runner, type ApiModelSettings, type ApiServiceDefinition } from '../../src/models/api/mod.js';
import { createLogger } from '../../src/observability/logger.js';
import type { RunContext } from '../../src/runtime/model.js';
import { TransportRegistry } from '../../src/runtime/registry.js';
import { BusOverTransport } from '../../src/transports/bus/bus-over-transport.js';
import { MemoryTransport } from '../../src/transports/memory/mod.js';

const calc = defineApi({
  name: 'mistakes.calc',
  rpcs: { add: { params: z.object({ a: z.number(), b: z.number() }), result: z.number() } },
  events: { added: { params: z.object({ sum: z.number() }) } },
});

/** A logger whose JSON lines land in `lines`. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({ write(chunk, _enc, done) { for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>); done(); } });
  return { lines, logger: createLogger({ level: 'info', destination }) };
}

async function componentsWith(serviceName: string, withListener: boolean) {
  const { lines, logger } = capturingLogger();
  const definition = apiService({ calc }, (bus) => {
    bus.serve(calc, { add: ({ a, b }) => a + b });
    if (withListener) void bus.calc.added.listen(() => undefined, { listenerName: 'audit' });
  }) as unknown as ApiServiceDefinition;
  const transports = new TransportRegistry({ logger });
  const settings = resolveSettings([apiSettingsSection], [{ source: 'test', values: { api: { serviceName } } }]).api;
  const ctx: RunContext<ApiModelSettings> = {
    logger, observer: undefined as never, transports, settings, transport: 'memory', stateDir: '.switchyard',
    configSource: () => Promise.reject(new Error('unused')), objectStore: () => Promise.reject(new Error('unused')),
  };
  await runner.components([definition], ctx);
  await transports.close();
  return lines.filter((l) => l.level === 'warn');
}

describe('listeners under a generated service name', () => {
  it('warn once at start, naming the listener and --service-name / SWITCHYARD_SERVICE_NAME', async () => {
    const warnings = await componentsWith('{friendly}', true);
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    const msg = String(warnings[0]!.msg);
    assert.match(msg, /listeners audit run under the generated service name "[a-z]+-[a-z]+" \(from "\{friendly\}"\)/);
    assert.match(msg, /not delivered to it after a restart/);
    assert.match(msg, /--service-name <name>, SWITCHYARD_SERVICE_NAME, LIGHTBUS_SERVICE_NAME/);
  });

  it('say nothing under a fixed name, or when nothing listens', async () => {
    assert.deepEqual(await componentsWith('billing', true), []);
    assert.deepEqual(await componentsWith('billing-{hostname}', true), []);
    assert.deepEqual(await componentsWith('{friendly}', false), []);
  });
});

describe('the RPC timeout hint', () => {
  it('names rpc_timeout and an environment variable that really sets it', async () => {
    // The variable as the hint spells it, read by the settings system as `switchyard run` reads it.
    const env = { SWITCHYARD_API_APIS: '{"mistakes.calc":{"rpcTimeout":0.15}}' };
    const settings = resolveSettings([apiSettingsSection], [envLayer([apiSettingsSection], env)]).api;
    assert.equal(settings.apis['mistakes.calc']!.rpcTimeout, 0.15);
    const bus = createBus({ apis: { calc }, transport: new BusOverTransport(new MemoryTransport()), logger: createLogger({ level: 'silent' }), settings: { rpcTimeoutMs: settings.apis['mistakes.calc']!.rpcTimeout * 1000 } });
    bus.serve(calc, { add: async ({ a, b }) => (await new Promise((r) => setTimeout(r, 600)), a + b) });
    await bus.start();
    try {
      await assert.rejects(bus.calc.add({ a: 1, b: 2 }), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'SY_ERR_REQUEST_TIMEOUT');
        assert.ok(e.message.includes(`raise rpc_timeout`), e.message);
        assert.ok(e.message.includes(`SWITCHYARD_API_APIS='{"mistakes.calc":{"rpcTimeout":10}}'`), e.message);
        assert.ok(!/raise timeoutMs/.test(e.message), e.message);
        return true;
      });
    } finally {
      await bus.stop();
    }
  });
});

describe('apiService given the wrong shape', () => {
  it('apiService({ apis: { calc } }, …) is refused with SY_ERR_API_MAP naming the key and the right shape', () => {
    assert.throws(() => apiService({ apis: { calc } } as never, () => undefined), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'SY_ERR_API_MAP');
      assert.match(e.message, /^SY_ERR_API_MAP: apiService\(apis, setup\) needs the API declarations by key as its first argument, e\.g\. apiService\(\{ calc \}, \(bus\) => \{ \.\.\. \}\)/);
      assert.match(e.message, /got key "apis" holding an object with keys calc, not an API declaration \(it holds declarations: pass them directly, \{ calc \}\)/);
      return true;
    });
  });

  it('so are undefined, an array and createBus({ apis: { apis: … } })', () => {
    assert.throws(() => apiService(undefined as never, () => undefined), /SY_ERR_API_MAP: .* got undefined$/);
    assert.throws(() => apiService([calc] as never, () => undefined), /SY_ERR_API_MAP: .* got an array$/);
    assert.throws(() => createBus({ apis: { apis: { calc } } as never, transport: new BusOverTransport(new MemoryTransport()) }), /SY_ERR_API_MAP: createBus\(\{ apis \}\) needs/);
  });
});
