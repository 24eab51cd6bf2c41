// One task, start to end, as the reference service does it: fetching (each data_in key,
// by position, must have an extension whose media type the input accepts; then its
// object is opened), processing (`process` with the opened inputs), saving (every declared
// output checked, then uploaded under a new `{uuid}{extension}` key). The task is finished
// only once every output is stored; any failure ends it in error with a message saying
// what failed, and outputs already uploaded for it are deleted again.

import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { errors, SwitchyardError } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { ObjectStore } from '../../storage/object-store.js';
import { readAll } from '../../storage/mod.js';
import { extensionOf, mediaTypeOfKey } from './media-types.js';
import type { TaskInputFile, TaskServiceDefinition } from './task-service.js';
import type { TaskState } from './task-status.js';
import type { MediaType, ServiceTask } from './wire.js';

export interface RunTaskOptions {
  readonly definition: TaskServiceDefinition;
  readonly task: ServiceTask;
  readonly taskId: string;
  readonly state: TaskState;
  readonly store: ObjectStore;
  readonly log: Logger;
  /** Removes the task's credentials from any text that will be logged or sent. */
  readonly redact: (text: string) => string;
  /** Longest `process` may take before the task fails; 0 = no limit. */
  readonly timeoutMs?: number;
}

/** Runs the task; resolves with the output keys (finished) or [] (error), never rejects. */
export async function runTask(options: RunTaskOptions): Promise<string[]> {
  const { state, redact } = options;
  const opened: InputFile[] = [];
  try {
    state.move('fetching');
    opened.push(...(await fetchInputs(options)));
    state.move('processing');
    const outputs = await callProcess(options, opened);
    // Inputs stay open while saving: an output may be an input's stream passed through.
    state.move('saving');
    const keys = await saveOutputs(options, outputs);
    state.move('finished');
    return keys;
  } catch (err) {
    state.fail(boundedMessage(redact(messageOf(err))));
    return [];
  } finally {
    for (const input of opened) input.dispose();
  }
}

/** Longest error_message kept and sent: messages quote keys and other peer-given text. */
export const MAX_ERROR_MESSAGE_CHARS = 4096;

function boundedMessage(message: string): string {
  return message.length <= MAX_ERROR_MESSAGE_CHARS ? message : `${message.slice(0, MAX_ERROR_MESSAGE_CHARS)}… (cut at ${MAX_ERROR_MESSAGE_CHARS} of ${message.length} characters)`;
}

/** A key for a message: quoted, and cut to its first 200 characters (keys come from the peer). */
export function quoteKey(key: string): string {
  return key.length <= 200 ? JSON.stringify(key) : `${JSON.stringify(key.slice(0, 200))}… (${key.length} characters)`;
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/** An opened input: the stream handed out once, or read whole once and cached. */
class InputFile implements TaskInputFile {
  #stream: Readable | undefined;
  #taken: 'stream' | 'bytes' | undefined;
  #bytes: Promise<Buffer> | undefined;

  constructor(readonly name: string, readonly type: MediaType, readonly key: string, stream: Readable) {
    this.#stream = stream;
  }

  stream(): Readable {
    if (this.#taken) throw new errors.SY_ERR_USAGE(`input "${this.name}" was already read with ${this.#taken}(); read each input once (bytes() and text() may be called again)`);
    this.#taken = 'stream';
    return this.#stream!;
  }

  bytes(): Promise<Buffer> {
    if (this.#taken === 'stream') return Promise.reject(new errors.SY_ERR_USAGE(`input "${this.name}" was already read with stream(); read each input once`));
    this.#taken = 'bytes';
    return (this.#bytes ??= readAll(this.#stream!));
  }

  async text(): Promise<string> {
    return (await this.bytes()).toString('utf8');
  }

  /** Releases the connection of a body nobody read. */
  dispose(): void {
    if (this.#stream && !this.#stream.destroyed && !this.#stream.readableEnded) this.#stream.destroy();
  }
}

async function fetchInputs({ definition, task, store }: RunTaskOptions): Promise<InputFile[]> {
  const keys = task.task.data_in;
  const fields = definition.dataIn;
  if (keys.length !== fields.length) {
    throw new errors.SY_ERR_TASK_INPUT(`the task has ${keys.length} data_in key(s) but the service takes ${fields.length} input(s) (${fields.map((f) => f.name).join(', ')}), matched by position`);
  }
  // Every key's type is checked before any object is fetched: a wrong file costs no download.
  const typed = fields.map((field, i) => {
    const key = keys[i]!;
    const type = mediaTypeOfKey(key);
    if (!type || !(field.type as readonly string[]).includes(type)) {
      throw new errors.SY_ERR_TASK_INPUT(`input "${field.name}" takes ${field.type.join(' or ')}, but key ${quoteKey(key)} ${type ? `is ${type}` : 'has no extension of a known media type'} (the type comes from the key's extension, as Python's mimetypes reads it)`);
    }
    return { field, key, type: type as MediaType };
  });
  const opened: InputFile[] = [];
  try {
    for (const { field, key, type } of typed) {
      try {
        opened.push(new InputFile(field.name, type, key, await store.get(task.s3_bucket, key)));
      } catch (err) {
        throw new errors.SY_ERR_TASK_INPUT(`fetching input "${field.name}" failed: ${messageOf(err)}`);
      }
    }
  } catch (err) {
    for (const input of opened) input.dispose();
    throw err;
  }
  return opened;
}

/**
 * Runs `process`. Past the timeout the task fails at once and the signal is aborted; a
 * JavaScript function cannot be stopped from outside, so one that ignores the signal runs
 * on in the background and what it returns is dropped.
 */
async function callProcess({ definition, taskId, log, timeoutMs = 0 }: RunTaskOptions, inputs: readonly InputFile[]): Promise<unknown> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const work = (async () => definition.process(Object.fromEntries(inputs.map((i) => [i.name, i])), { taskId, log, signal: controller.signal }))();
  const limit = timeoutMs > 0
    ? new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          controller.abort();
          reject(new errors.SY_ERR_TASK_PROCESS(`it did not finish within ${timeoutMs / 1000} s (TASK_TIMEOUT); make it faster or raise TASK_TIMEOUT`));
        }, timeoutMs);
      })
    : undefined;
  try {
    return await (limit ? Promise.race([work, limit]) : work);
  } catch (err) {
    if (err instanceof SwitchyardError && err.code === 'SY_ERR_TASK_PROCESS') throw err;
    throw new errors.SY_ERR_TASK_PROCESS(messageOf(err));
  } finally {
    clearTimeout(timer);
    // A late rejection of a process that timed out must not become an unhandled rejection.
    work.catch(() => undefined);
  }
}

async function contentOf(name: string, data: unknown): Promise<Uint8Array> {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data instanceof Uint8Array) return data;
  if (data instanceof Readable) {
    try {
      return await readAll(data);
    } catch (err) {
      throw new errors.SY_ERR_TASK_OUTPUT(`reading the stream of output "${name}" failed: ${messageOf(err)}`);
    }
  }
  throw new errors.SY_ERR_TASK_OUTPUT(`output "${name}".data is ${data === null ? 'null' : typeof data}, not a string, bytes or a readable stream`);
}

async function saveOutputs({ definition, task, store, log }: RunTaskOptions, outputs: unknown): Promise<string[]> {
  if (outputs === null || typeof outputs !== 'object') {
    throw new errors.SY_ERR_TASK_OUTPUT(`got ${outputs === null ? 'null' : typeof outputs} instead of an object of outputs`);
  }
  const given = outputs as Record<string, unknown>;
  const declared = new Set(definition.dataOut.map((f) => f.name));
  const unknown = Object.keys(given).filter((k) => !declared.has(k));
  if (unknown.length > 0) throw new errors.SY_ERR_TASK_OUTPUT(`output(s) ${unknown.map((k) => `"${k}"`).join(', ')} are not declared (declared: ${[...declared].join(', ')})`);
  // Check every output before uploading any, so a bad one costs no upload.
  const checked = definition.dataOut.map((field) => {
    const out = given[field.name] as { type?: unknown; data?: unknown } | undefined;
    if (out === undefined || out === null || typeof out !== 'object') throw new errors.SY_ERR_TASK_OUTPUT(`output "${field.name}" is missing`);
    if (!field.type.includes(out.type as MediaType)) {
      throw new errors.SY_ERR_TASK_OUTPUT(`output "${field.name}" has type ${JSON.stringify(out.type)}, but the service declares ${field.type.join(' or ')} for it`);
    }
    return { field, type: out.type as MediaType, data: out.data };
  });
  const uploaded: string[] = [];
  try {
    for (const { field, type, data } of checked) {
      const bytes = await contentOf(field.name, data);
      const key = `${randomUUID()}${extensionOf(type)}`;
      try {
        await store.putBytes(task.s3_bucket, key, bytes);
      } catch (err) {
        throw new errors.SY_ERR_TASK_SAVE(field.name, messageOf(err));
      }
      uploaded.push(key);
    }
  } catch (err) {
    // The task fails: outputs it already stored would be orphans nobody is told about.
    for (const key of uploaded) {
      await store.delete(task.s3_bucket, key).catch((e: unknown) => log.warn({ key, err: messageOf(e) }, 'could not delete an output of a failed task'));
    }
    throw err;
  }
  return uploaded;
}
