// Secret references. Configuration names where a secret lives, never the secret itself:
// `pass:NAME` (GNU pass, as slingshot uses it, SPECS.md §1.3), `env:NAME` or `file:PATH`.
// A resolved value is wrapped in Secret, which prints as "[redacted]" everywhere a value
// can leak by accident (logs, JSON, template strings, console.log), and is only readable
// through an explicit reveal(). Error messages name the reference and the fix, and never
// include a value or anything pass printed on stdout.

import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { errors, redactUrl } from '../errors.js';

const REDACTED = '[redacted]';

export class Secret {
  readonly #value: string;
  /** Where the value came from, e.g. "pass:infra/rabbitmq/svc"; a reference is not secret. */
  readonly ref: string;

  constructor(value: string, ref: string) {
    this.#value = value;
    this.ref = ref;
  }

  /** The value itself. Call it only where the value is handed to the thing that needs it. */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

export interface ResolveSecretOptions {
  /** The `pass` program; default "pass" looked up on PATH. */
  passBinary?: string;
  /** Environment for env: look-ups and for the pass process (GNUPGHOME, PASSWORD_STORE_DIR); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** How long `pass show` may take; gpg can sit waiting for a passphrase. Default 30000. */
  timeoutMs?: number;
}

const FORMS = 'use pass:ENTRY (GNU pass), env:VARIABLE or file:PATH';

/** Resolves `pass:NAME`, `env:NAME` or `file:PATH`. Anything else is an error. */
export async function resolveSecret(ref: string, opts: ResolveSecretOptions = {}): Promise<Secret> {
  const colon = ref.indexOf(':');
  const scheme = colon < 0 ? '' : ref.slice(0, colon);
  const rest = colon < 0 ? '' : ref.slice(colon + 1);
  switch (scheme) {
    case 'pass': return fromPass(ref, rest, opts);
    case 'env': return fromEnv(ref, rest, opts);
    case 'file': return fromFile(ref, rest);
    default:
      throw new errors.SY_ERR_SECRET_REF(ref, `it does not start with a known form; ${FORMS}`);
  }
}

/**
 * Like resolveSecret, but a reference with none of the three prefixes is taken as a pass
 * entry name: slingshot's /rabbitmq `pass` and /object-storage `pass:*` fields hold bare
 * entry names such as "infra/rabbitmq/svc".
 */
export async function resolveSecretOrPassEntry(ref: string, opts: ResolveSecretOptions = {}): Promise<Secret> {
  if (/^(pass|env|file):/.test(ref)) return resolveSecret(ref, opts);
  return fromPass(ref, ref, opts);
}

/**
 * A secret an endpoint names, by where the endpoint came from (RefOrigin): from local
 * configuration any form (resolveSecretOrPassEntry); from a remote configuration service
 * a GNU pass entry name only (slingshot's rule), written bare or as pass:NAME. env: and
 * file: references from a remote answer are refused, never read.
 */
export async function resolveEndpointSecret(ref: string, origin: { readonly remoteUrl?: string | undefined }, opts: ResolveSecretOptions = {}): Promise<Secret> {
  if (origin.remoteUrl === undefined) return resolveSecretOrPassEntry(ref, opts);
  const from = `the configuration service at ${redactUrl(origin.remoteUrl)}`;
  if (/^(env|file):/.test(ref)) {
    throw new errors.SY_ERR_SECRET_REF(ref, `it came from ${from}, and a remote configuration service may only name GNU pass entries (as slingshot's does); env: and file: references are honoured only in local files and flags (--map, --amqp-password, --s3-access-key, settings)`);
  }
  const entry = ref.startsWith('pass:') ? ref.slice('pass:'.length) : ref;
  if (entry.startsWith('/') || entry.split('/').includes('..')) {
    throw new errors.SY_ERR_SECRET_REF(ref, `it came from ${from} and points outside the password store; name an entry inside it`);
  }
  return fromPass(ref, entry, opts);
}

async function fromEnv(ref: string, name: string, opts: ResolveSecretOptions): Promise<Secret> {
  if (name === '') throw new errors.SY_ERR_SECRET_REF(ref, 'no variable name after "env:"; write env:VARIABLE');
  const value = (opts.env ?? process.env)[name];
  if (value === undefined) throw new errors.SY_ERR_SECRET_REF(ref, `environment variable ${name} is not set; set it before starting`);
  if (value === '') throw new errors.SY_ERR_SECRET_REF(ref, `environment variable ${name} is empty; give it the secret value`);
  return new Secret(value, ref);
}

async function fromFile(ref: string, path: string): Promise<Secret> {
  if (path === '') throw new errors.SY_ERR_SECRET_REF(ref, 'no path after "file:"; write file:PATH');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? `file ${path} does not exist; create it or fix the path`
      : code === 'EACCES' ? `file ${path} is not readable by this process; fix its permissions`
      : code === 'EISDIR' ? `${path} is a directory; point at the file holding the secret`
      : `file ${path} cannot be read (${code ?? 'unknown error'})`;
    throw new errors.SY_ERR_SECRET_REF(ref, why);
  }
  // Editors and `echo` add a final newline that is not part of the secret.
  const value = text.replace(/(\r?\n)+$/, '');
  if (value === '') throw new errors.SY_ERR_SECRET_REF(ref, `file ${path} is empty; write the secret into it`);
  return new Secret(value, ref);
}

interface ExecResult { code: number | string | null; signal: string | null; stdout: string; stderr: string; killed: boolean }

function run(bin: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<ExecResult> {
  return new Promise((resolve) => {
    // execFile, not exec: the entry name goes to pass as one argument and no shell ever parses it.
    execFile(bin, args, { env, timeout: timeoutMs, maxBuffer: 1 << 20, encoding: 'utf8', windowsHide: true }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string; signal?: string; killed?: boolean }) | null;
      resolve({ code: e ? (e.code ?? null) : 0, signal: e?.signal ?? null, stdout, stderr, killed: e?.killed ?? false });
    });
  });
}

async function fromPass(ref: string, entry: string, opts: ResolveSecretOptions): Promise<Secret> {
  if (entry === '') throw new errors.SY_ERR_SECRET_REF(ref, 'no entry name; write pass:ENTRY, e.g. pass:infra/rabbitmq/svc');
  // A leading "-" would be read by pass as an option (e.g. --clip); control characters
  // cannot be in a file name pass could have created.
  if (entry.startsWith('-')) throw new errors.SY_ERR_SECRET_REF(ref, 'a pass entry name cannot start with "-"');
  if (/\p{Cc}/u.test(entry)) throw new errors.SY_ERR_SECRET_REF(ref, 'the pass entry name contains control characters');
  const env = opts.env ?? process.env;
  const bin = opts.passBinary ?? 'pass';
  const timeoutMs = opts.timeoutMs ?? 30_000;

  // `pass show FOLDER` exits 0 and prints a tree whose first line is the folder name,
  // which would be taken for the password. pass itself prefers FOLDER.gpg, so do the same.
  const store = env.PASSWORD_STORE_DIR || join(env.HOME || homedir(), '.password-store');
  if (!(await isFile(join(store, `${entry}.gpg`))) && (await isDirectory(join(store, entry)))) {
    throw new errors.SY_ERR_SECRET_REF(ref, `"${entry}" is a folder in the password store ${store}, not an entry; name an entry inside it (pass ls ${entry})`);
  }

  const r = await run(bin, ['show', entry], env, timeoutMs);
  if (r.code === 'ENOENT') {
    throw new errors.SY_ERR_SECRET_REF(ref, `the pass program (${bin}) was not found; install pass (e.g. apt-get install pass) or set passBinary`);
  }
  if (r.killed || r.signal) {
    throw new errors.SY_ERR_SECRET_REF(ref, r.killed
      ? `\`${bin} show ${entry}\` did not finish within ${timeoutMs} ms; gpg may be waiting for a passphrase: unlock the key in gpg-agent first`
      : `\`${bin} show ${entry}\` was killed by ${r.signal}`);
  }
  if (r.code !== 0) {
    throw new errors.SY_ERR_SECRET_REF(ref, `\`${bin} show ${entry}\` exited with ${typeof r.code === 'number' ? `code ${r.code}` : r.code}${safeStderr(r)}; check the entry exists (pass ls) or create it with \`pass insert ${entry}\``);
  }
  // slingshot: the first line of stdout, trimmed (SPECS.md §1.3).
  const value = r.stdout.split('\n', 1)[0]!.trim();
  if (value === '') {
    throw new errors.SY_ERR_SECRET_REF(ref, `\`${bin} show ${entry}\` printed an empty first line; put the password on the first line (pass edit ${entry})`);
  }
  return new Secret(value, ref);
}

/**
 * pass's stderr explains most failures ("is not in the password store", gpg's "No secret
 * key"), and gpg writes decrypted text only to stdout. Still, it is dropped whenever any
 * stdout line appears in it, so a secret cannot reach a message even through an odd wrapper.
 */
function safeStderr(r: ExecResult): string {
  const err = r.stderr.trim();
  if (err === '') return '';
  const outLines = r.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  if (outLines.some((l) => err.includes(l))) return '';
  const firstLines = err.split('\n').slice(0, 3).join(' / ');
  return ` (${firstLines.length > 300 ? `${firstLines.slice(0, 300)}…` : firstLines})`;
}

async function isFile(p: string): Promise<boolean> {
  return stat(p).then((s) => s.isFile(), () => false);
}

async function isDirectory(p: string): Promise<boolean> {
  return stat(p).then((s) => s.isDirectory(), () => false);
}
