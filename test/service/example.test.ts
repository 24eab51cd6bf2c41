// The example pair (examples/service-pair) as a user runs it: the pricer as a service, the
// market in main mode; the market's printed quotes follow its book through every delta
// (null deletions included). Ports 17690-17692 (the example's addresses files).

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { killAll, requireBuild, runCli, start, waitFor, ROOT } from '../cli/cli-helpers.js';

const DIR = join(ROOT, 'examples', 'service-pair');

describe('examples/service-pair', () => {
  after(() => killAll());

  it('the market (main mode) prints a quote per update from the pricer\'s delta-updated book', { timeout: 30_000 }, async () => {
    requireBuild();
    const pricer = start(['service', '-s', 'pricer.ts', '-a', 'pricer.addresses.json'], { cwd: DIR });
    await waitFor(() => `the pricer to start: ${pricer.stdout()}${pricer.stderr()}`, () => pricer.stdout().includes('service started'));
    const market = await runCli(['service', '-s', 'market.ts', '-a', 'market.addresses.json', '-c', 'market.config.json', '-m', '-cl', 'warn', '--pause_ms', '100'], { cwd: DIR, timeoutMs: 20_000 });
    assert.equal(market.code, 0, market.stderr + market.stdout);
    assert.deepEqual(market.stdout.trim().split('\n'), [
      'update 0: 2 levels, quote 99.5 / 100.5 mid 100.0000',
      'update 1: 3 levels, quote 100 / 100.5 mid 100.2500',
      'update 2: 4 levels, quote 100 / 100.25 mid 100.1250',
      'update 3: 3 levels, quote 99.5 / 100.25 mid 99.8750',
      'update 4: 3 levels, quote 99.5 / 100.5 mid 100.0000',
    ]);
    pricer.kill('SIGINT');
    assert.equal((await pricer.exited).code, 0);
  });
});
