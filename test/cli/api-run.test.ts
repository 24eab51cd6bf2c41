// `switchyard run` with an API service alone on the embedded default, as a user runs it
// (issue 14): it stays up until a signal (it used to exit after a second with code 13 and
// no message: nothing kept the process alive), and --metrics-port serves its series (it
// used to be ignored for API services).

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { killAll, requireBuild, start, waitFor } from './cli-helpers.js';

requireBuild();
after(killAll);

const AUTH = 'examples/auth-bus/auth-service.ts';

describe('switchyard run: an API service alone on the embedded default', { timeout: 60_000 }, () => {
  it('stays up until SIGTERM, then stops cleanly with 0', async () => {
    const cli = start(['run', AUTH, '--log-level', 'info']);
    await waitFor(() => `"bus started" in:\n${cli.stdout()}\n${cli.stderr()}`, () => /bus started/.test(cli.stdout()), 20_000);
    // Long enough for a process with nothing holding its event loop to have ended (it did after ~1 s).
    await sleep(2_500);
    assert.equal(cli.hasExited(), false, `the service ended by itself:\n${cli.stdout()}\n${cli.stderr()}`);
    cli.kill('SIGTERM');
    const exit = await cli.exited;
    assert.equal(exit.code, 0, cli.stderr());
    assert.match(cli.stdout(), /bus stopped/);
  });

  it('serves /metrics, /health and /ready on --metrics-port with the model\'s series', async () => {
    const cli = start(['run', AUTH, '--log-level', 'info', '--metrics-port', '0', '--service-name', 'auth_svc']);
    const url = await waitFor(
      () => `"metrics served" in:\n${cli.stdout()}\n${cli.stderr()}`,
      () => /"url":"(http:\/\/[^"]+)\/metrics".*"msg":"metrics served"/.exec(cli.stdout())?.[1],
      20_000,
    );
    await waitFor('the component ready', async () => ((await (await fetch(`${url}/ready`)).json()) as { status: string }).status === 'ok', 20_000);
    const text = await (await fetch(`${url}/metrics`)).text();
    assert.match(text, /switchyard_component_ready\{model="api",service="auth_svc",transport="memory"\} 1/);
    const health = (await (await fetch(`${url}/health`)).json()) as { components: { model: string; service: string; state: string }[] };
    assert.deepEqual(health.components.map((c) => [c.model, c.service, c.state]), [['api', 'auth_svc', 'ready']]);
    cli.kill('SIGTERM');
    assert.equal((await cli.exited).code, 0, cli.stderr());
  });
});
