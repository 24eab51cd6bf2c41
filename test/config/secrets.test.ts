import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { inspect } from 'node:util';
import { SwitchyardError } from '../../src/errors.js';
import { Secret, resolveSecret, resolveSecretOrPassEntry } from '../../src/config/secrets.js';

const T = { timeout: 10000 };
const VALUE = 'hunter2-s3cr3t-value';

/** Asserts a SY_ERR_SECRET_REF that names `parts` and never contains the secret value. */
function secretErr(...parts: (string | RegExp)[]) {
  return (err: unknown) => {
    assert.ok(err instanceof SwitchyardError, String(err));
    assert.equal(err.code, 'SY_ERR_SECRET_REF', err.message);
    assert.ok(!err.message.includes(VALUE), `the message leaks the value: ${err.message}`);
    for (const p of parts) {
      if (typeof p === 'string') assert.ok(err.message.includes(p), `${JSON.stringify(p)} not in: ${err.message}`);
      else assert.match(err.message, p);
    }
    return true;
  };
}

async function withTmp<R>(fn: (dir: string) => Promise<R>): Promise<R> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'switchyard-secrets-'));
  try {
    return await fn(dir);
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

describe('Secret never prints its value', () => {
  const s = new Secret(VALUE, 'env:X');

  test('reveal() gives the value; every printing path gives [redacted]', T, () => {
    assert.equal(s.reveal(), VALUE);
    assert.equal(String(s), '[redacted]');
    assert.equal(`${s}`, '[redacted]');
    assert.equal(JSON.stringify(s), '"[redacted]"');
    assert.equal(JSON.stringify({ password: s }), '{"password":"[redacted]"}');
    assert.equal(inspect(s), '[redacted]');
    assert.equal(inspect({ nested: { s } }, { depth: 5 }), '{ nested: { s: [redacted] } }');
    assert.ok(!inspect(s, { showHidden: true }).includes(VALUE));
    assert.equal(s.ref, 'env:X');
  });
});

describe('env: and file:', () => {
  test('env:NAME reads the variable from opts.env', T, async () => {
    const s = await resolveSecret('env:MY_SECRET', { env: { MY_SECRET: VALUE } });
    assert.equal(s.reveal(), VALUE);
  });

  test('a missing or empty variable is an error naming it', T, async () => {
    await assert.rejects(resolveSecret('env:MY_SECRET', { env: {} }), secretErr('"env:MY_SECRET"', 'MY_SECRET is not set'));
    await assert.rejects(resolveSecret('env:MY_SECRET', { env: { MY_SECRET: '' } }), secretErr('MY_SECRET is empty'));
    await assert.rejects(resolveSecret('env:', { env: {} }), secretErr('no variable name'));
  });

  test('file:PATH reads the file without its trailing newline', T, async () => {
    await withTmp(async (dir) => {
      const f = path.join(dir, 'secret.txt');
      await fsp.writeFile(f, `${VALUE}\n`);
      assert.equal((await resolveSecret(`file:${f}`)).reveal(), VALUE);
      await fsp.writeFile(f, `${VALUE}\r\n`);
      assert.equal((await resolveSecret(`file:${f}`)).reveal(), VALUE);
      await fsp.writeFile(f, ` ${VALUE} `);
      assert.equal((await resolveSecret(`file:${f}`)).reveal(), ` ${VALUE} `, 'only newlines are trimmed');
    });
  });

  test('a missing file, an empty file and a directory are errors naming the path', T, async () => {
    await withTmp(async (dir) => {
      const f = path.join(dir, 'absent');
      await assert.rejects(resolveSecret(`file:${f}`), secretErr(f, 'does not exist'));
      await fsp.writeFile(path.join(dir, 'empty'), '\n');
      await assert.rejects(resolveSecret(`file:${path.join(dir, 'empty')}`), secretErr('is empty'));
      await assert.rejects(resolveSecret(`file:${dir}`), secretErr('is a directory'));
    });
  });

  test('an unknown form lists the three forms; resolveSecretOrPassEntry routes by prefix', T, async () => {
    await assert.rejects(resolveSecret('vault:x'), secretErr('"vault:x"', 'pass:ENTRY', 'env:VARIABLE', 'file:PATH'));
    await assert.rejects(resolveSecret('infra/rabbitmq/svc'), secretErr('pass:ENTRY'));
    assert.equal((await resolveSecretOrPassEntry('env:A', { env: { A: VALUE } })).reveal(), VALUE);
  });
});

describe('pass: without a pass store', () => {
  test('a missing pass binary is an error naming the reference and the fix', T, async () => {
    await assert.rejects(
      resolveSecret('pass:infra/x', { passBinary: '/nonexistent/pass' }),
      secretErr('"pass:infra/x"', '/nonexistent/pass', 'was not found', 'install pass'),
    );
    // A bare entry name (slingshot's /rabbitmq "pass" field) is a pass entry.
    await assert.rejects(
      resolveSecretOrPassEntry('infra/x', { passBinary: '/nonexistent/pass' }),
      secretErr('"infra/x"', 'install pass'),
    );
  });

  test('entry names that pass would read as options are refused', T, async () => {
    await assert.rejects(resolveSecret('pass:--clip'), secretErr('cannot start with "-"'));
    await assert.rejects(resolveSecret('pass:'), secretErr('no entry name'));
  });

  test('a stand-in pass: first line trimmed; a failure shows stderr but never stdout', T, async (t) => {
    if (process.platform === 'win32') return t.skip('needs a POSIX shell script');
    await withTmp(async (dir) => {
      const bin = path.join(dir, 'fake-pass');
      await fsp.writeFile(bin, [
        '#!/bin/sh',
        'case "$2" in',
        `  ok) printf '  ${VALUE}  \\nsecond line\\n' ;;`,
        '  blank) printf "\\nsecond\\n" ;;',
        `  fail) printf '${VALUE}\\n'; echo "gpg: decryption failed: ${VALUE}" >&2; exit 2 ;;`,
        '  missing) echo "Error: missing is not in the password store." >&2; exit 1 ;;',
        'esac',
      ].join('\n'), { mode: 0o755 });
      const env = { PATH: process.env.PATH, PASSWORD_STORE_DIR: path.join(dir, 'store') };
      assert.equal((await resolveSecret('pass:ok', { passBinary: bin, env })).reveal(), VALUE);
      await assert.rejects(resolveSecret('pass:blank', { passBinary: bin, env }), secretErr('empty first line', 'pass edit blank'));
      await assert.rejects(resolveSecret('pass:fail', { passBinary: bin, env }), secretErr('exited with code 2'));
      await assert.rejects(resolveSecret('pass:missing', { passBinary: bin, env }),
        secretErr('exited with code 1', 'is not in the password store', 'pass insert missing'));
    });
  });
});

function onPath(bin: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function run(bin: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(bin, args, { env, timeout: 8000 }, (err, stdout, stderr) =>
      (err ? reject(new Error(`${bin} ${args.join(' ')}: ${err.message}\n${stderr}`)) : resolve(stdout)));
    // A command that does not read its input may exit before the write lands (EPIPE): its
    // exit status and stderr are what count.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input ?? '');
  });
}

describe('pass: with a real password store', () => {
  test('resolves an entry; a missing entry and a folder are errors naming them', T, async () => {
    assert.ok(onPath('pass') && onPath('gpg'), 'pass and gpg are not installed: apt-get install -y pass gnupg (or run npm test, which installs them)');
    // Short base path: gpg-agent's socket path must stay under ~100 characters.
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'sy-pass-'));
    const gnupg = path.join(dir, 'g');
    await fsp.mkdir(gnupg, { mode: 0o700 });
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: dir,
      GNUPGHOME: gnupg,
      PASSWORD_STORE_DIR: path.join(dir, 'store'),
    };
    try {
      await run('gpg', ['--batch', '--passphrase', '', '--quick-gen-key', 'switchyard-test <t@example.invalid>', 'default', 'default', 'never'], env);
      const listing = await run('gpg', ['--batch', '--with-colons', '--list-keys', 't@example.invalid'], env);
      const keyId = listing.split('\n').find((l) => l.startsWith('fpr:'))?.split(':')[9];
      assert.ok(keyId, `no key fingerprint in:\n${listing}`);
      await run('pass', ['init', keyId], env);
      await run('pass', ['insert', '-m', 'infra/rabbitmq/svc'], env, `${VALUE}\nuser: svc\n`);

      assert.equal((await resolveSecret('pass:infra/rabbitmq/svc', { env })).reveal(), VALUE);
      assert.equal((await resolveSecretOrPassEntry('infra/rabbitmq/svc', { env })).reveal(), VALUE);
      await assert.rejects(resolveSecret('pass:infra/nope', { env }),
        secretErr('"pass:infra/nope"', 'not in the password store', 'pass insert infra/nope'));
      await assert.rejects(resolveSecret('pass:infra/rabbitmq', { env }), secretErr('is a folder in the password store'));
    } finally {
      // The key generation started a gpg-agent for this GNUPGHOME; stop it before removing the dir.
      await run('gpgconf', ['--kill', 'gpg-agent'], env).catch(() => undefined);
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });
});
