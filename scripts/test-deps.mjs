#!/usr/bin/env node
// What the test suite needs besides npm packages: real servers and the original peers'
// runtimes. The tests start them themselves on loopback ports of their own; this makes sure
// they are installed. As root with apt-get (a fresh Debian machine, CI), it installs what is
// missing; otherwise it stops at once with the exact command to run. It never lets the suite
// run smaller: a test never skips itself because a server is missing.
//
// Usage: node scripts/test-deps.mjs [--check]   (--check: report only, never install)

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Each need: how to tell it is there, and the Debian packages that bring it. */
const needs = [
  { what: 'RabbitMQ (worker on AMQP, fault tests)', packages: ['rabbitmq-server'], present: () => existsSync('/usr/lib/rabbitmq/bin/rabbitmq-server') },
  { what: 'Redis (API model, Redis transport, Lightbus interop)', packages: ['redis-server'], present: () => existsSync('/usr/bin/redis-server') },
  { what: 'GNU pass + gnupg (secret references)', packages: ['pass', 'gnupg'], present: () => onPath('pass') && onPath('gpg') },
  {
    what: 'Python 3 with pyzmq and msgpack (service_framework and Lightbus interop)',
    packages: ['python3', 'python3-zmq', 'python3-msgpack'],
    present: () => spawnSync('/usr/bin/python3', ['-c', 'import zmq, msgpack'], { stdio: 'ignore' }).status === 0,
  },
  { what: 'Go (the original acomm/provider, for interop)', packages: ['golang-go'], present: () => onPath('go') },
  { what: 'Chromium (the dashboard page in a real browser, driven by playwright-core)', packages: ['chromium'], present: () => existsSync('/usr/bin/chromium') },
];

function onPath(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

const checkOnly = process.argv.includes('--check');
const missing = needs.filter((n) => !n.present());
if (missing.length === 0) process.exit(0);

const packages = [...new Set(missing.flatMap((n) => n.packages))];
const command = `apt-get update && apt-get install -y ${packages.join(' ')}`;
const list = missing.map((n) => `  - ${n.what}`).join('\n');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

if (checkOnly || !isRoot || !onPath('apt-get')) {
  process.stderr.write(
    `The test suite needs servers and tools that are not installed:\n${list}\n` +
      `Install them, then run the tests again:\n  ${isRoot ? '' : 'sudo '}${command}\n` +
      (onPath('apt-get') ? '' : '(no apt-get here: install the same programs with your system\'s package manager)\n'),
  );
  process.exit(1);
}

process.stderr.write(`Installing what the tests need (${packages.join(', ')}):\n${list}\n`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
for (const args of [['update', '-qq'], ['install', '-y', '-qq', ...packages]]) {
  const r = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env });
  if (r.status !== 0) {
    process.stderr.write(`apt-get ${args.join(' ')} failed (exit ${r.status}); run it by hand:\n  ${command}\n`);
    process.exit(1);
  }
}
const still = needs.filter((n) => !n.present());
if (still.length > 0) {
  process.stderr.write(`Still missing after the install:\n${still.map((n) => `  - ${n.what}`).join('\n')}\n`);
  process.exit(1);
}
