// The S3 object store: any S3-compatible server (slingshot uses Garage, region "garage",
// path-style addressing, static credentials). Reads stream the response body; uploads go
// from a local file, as one PutObject up to a size threshold and as a multipart upload
// (lib-storage) above it. S3 makes a put visible only when it is complete, so a reader sees
// the old object or the new one; a failed multipart upload is aborted so its parts do not
// linger. Errors name the operation, bucket, key and endpoint, never the credentials.
//
// Retries: the SDK retries each request a few times (maxAttempts, default 3) so that a
// glitch does not fail a message; longer outages surface as errors quickly (short connect
// timeout) and the worker's own retry policy takes over.

import { createReadStream } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { PassThrough, Readable } from 'node:stream';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { importAdapter } from '../../adapter-package.js';
import { backoffMs, type RetryPolicy } from '../../backoff.js';
import { errors, redactUrl, SwitchyardError } from '../../errors.js';
import type { ObjectStore } from '../object-store.js';

const MiB = 1024 * 1024;
/** S3's smallest part size (all parts but the last). */
export const MIN_PART_SIZE_BYTES = 5 * MiB;
export const DEFAULT_S3_REGION = 'garage';
export const DEFAULT_MULTIPART_THRESHOLD_BYTES = 8 * MiB;
export const DEFAULT_PART_SIZE_BYTES = 8 * MiB;
export const DEFAULT_QUEUE_SIZE = 4;
export const DEFAULT_MAX_ATTEMPTS = 3;
export const DEFAULT_CONNECTION_TIMEOUT_MS = 5_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
const MAX_KEY_BYTES = 1024;

/** The AWS SDK packages this store needs: optional peer dependencies of switchyardjs. */
export const S3_PACKAGES = ['@aws-sdk/client-s3', '@aws-sdk/lib-storage'] as const;
type Sdk = typeof import('@aws-sdk/client-s3') & Pick<typeof import('@aws-sdk/lib-storage'), 'Upload'>;
let sdkLoad: Promise<Sdk> | undefined;

/** The SDK, loaded at a store's first request (about 20 MB and 100 ms), once per process. */
function loadSdk(): Promise<Sdk> {
  sdkLoad ??= importAdapter('s3', S3_PACKAGES, async () => {
    const [s3, storage] = await Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/lib-storage')]);
    return { ...s3, Upload: storage.Upload };
  });
  sdkLoad.catch(() => (sdkLoad = undefined));
  return sdkLoad;
}

export interface S3ObjectStoreOptions {
  /** The server's URL, e.g. "https://s3.example" or "http://127.0.0.1:9000". */
  readonly endpoint: string;
  /** Default "garage", as slingshot. */
  readonly region?: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Path-style addressing (`{endpoint}/{bucket}/{key}`); default true, as slingshot. */
  readonly forcePathStyle?: boolean;
  /** Files larger than this are uploaded in parts; default 8 MiB. */
  readonly multipartThresholdBytes?: number;
  /** Size of each part of a multipart upload, at least 5 MiB; default 8 MiB. */
  readonly partSizeBytes?: number;
  /** Parts of one upload in flight at once; default 4. Memory per upload ≈ partSize × queueSize. */
  readonly queueSize?: number;
  /**
   * Time allowed until the response headers arrive (the request body included), and the
   * longest a connection may sit idle while a response body streams; default 60 s.
   */
  readonly requestTimeoutMs?: number;
  /** Time allowed to open a connection; default 5 s. */
  readonly connectionTimeoutMs?: number;
  /** Attempts per request, first one included; default 3. Keep it small: the worker retries longer outages. */
  readonly maxAttempts?: number;
  /**
   * Receives the SDK's own log lines. Default: none, since the store reports every failure
   * in its errors (the SDK would otherwise print some warnings to the console).
   */
  readonly sdkLogger?: S3ClientConfig['logger'];
}

type Op = 'read' | 'upload' | 'check' | 'delete';

export class S3ObjectStore implements ObjectStore {
  readonly name = 's3';
  /** The endpoint URL, for messages. */
  readonly endpoint: string;
  readonly region: string;
  readonly multipartThresholdBytes: number;
  readonly partSizeBytes: number;
  readonly queueSize: number;
  readonly maxAttempts: number;
  /** The client's configuration: the client is made at the first request, when the SDK is loaded. */
  readonly #config: S3ClientConfig;
  #sdk: Promise<{ sdk: Sdk; client: S3Client }> | undefined;
  #client: S3Client | undefined;
  /** Strings that must never appear in a message: the access key and the secret key. */
  readonly #secrets: string[];
  /** Buckets seen to exist, so `exists` checks a bucket once, not at every miss. */
  readonly #knownBuckets = new Set<string>();
  #closed = false;

  constructor(options: S3ObjectStoreOptions) {
    // The SDK warns once per process that its releases after January 2027 need Node 22; the
    // version here is pinned, so the warning only adds noise to worker logs.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    const bad = (what: string): never => {
      throw new errors.SY_ERR_SETTINGS(`s3 object store: ${what}`);
    };
    if (typeof options !== 'object' || options === null) bad('options are missing');
    if (typeof options.endpoint !== 'string' || options.endpoint === '') bad('"endpoint" must be a URL such as https://s3.example');
    let url: URL | undefined;
    try {
      url = new URL(options.endpoint);
    } catch {
      bad(`"endpoint" ${JSON.stringify(redactUrl(options.endpoint))} is not a URL; write it as https://host[:port]`);
    }
    if (url!.protocol !== 'http:' && url!.protocol !== 'https:') {
      bad(`"endpoint" ${JSON.stringify(redactUrl(options.endpoint))} must start with http:// or https://`);
    }
    if (url!.username !== '' || url!.password !== '') {
      bad(`"endpoint" must not hold credentials; pass accessKeyId and secretAccessKey instead`);
    }
    if (typeof options.accessKeyId !== 'string' || options.accessKeyId.trim() === '') bad('"accessKeyId" is empty');
    if (typeof options.secretAccessKey !== 'string' || options.secretAccessKey === '') bad('"secretAccessKey" is empty');
    const region = options.region ?? DEFAULT_S3_REGION;
    if (typeof region !== 'string' || region === '') bad('"region" is empty');

    const int = (name: string, value: number | undefined, dflt: number, min: number): number => {
      const v = value ?? dflt;
      if (!Number.isSafeInteger(v) || v < min) bad(`"${name}" must be an integer of at least ${min}, got ${String(value)}`);
      return v;
    };
    this.multipartThresholdBytes = int('multipartThresholdBytes', options.multipartThresholdBytes, DEFAULT_MULTIPART_THRESHOLD_BYTES, 0);
    this.partSizeBytes = int('partSizeBytes', options.partSizeBytes, DEFAULT_PART_SIZE_BYTES, MIN_PART_SIZE_BYTES);
    this.queueSize = int('queueSize', options.queueSize, DEFAULT_QUEUE_SIZE, 1);
    this.maxAttempts = int('maxAttempts', options.maxAttempts, DEFAULT_MAX_ATTEMPTS, 1);
    const requestTimeout = int('requestTimeoutMs', options.requestTimeoutMs, DEFAULT_REQUEST_TIMEOUT_MS, 1);
    const connectionTimeout = int('connectionTimeoutMs', options.connectionTimeoutMs, DEFAULT_CONNECTION_TIMEOUT_MS, 1);

    this.endpoint = options.endpoint.replace(/\/+$/, '');
    this.region = region;
    this.#secrets = [options.accessKeyId, options.secretAccessKey].filter((s) => s.length >= 3);

    const config: S3ClientConfig = {
      endpoint: this.endpoint,
      region,
      forcePathStyle: options.forcePathStyle ?? true,
      credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
      maxAttempts: this.maxAttempts,
      logger: options.sdkLogger ?? QUIET_LOGGER,
      // Checksums only where S3 requires them: S3-compatible servers (Garage, s3rver, older
      // MinIO) do not all accept the aws-chunked bodies with trailing checksums that newer
      // SDKs send by default.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: {
        connectionTimeout,
        requestTimeout,
        throwOnRequestTimeout: true,
        socketTimeout: requestTimeout,
      },
    };
    this.#config = config;
  }

  /** The SDK and this store's client, both made at the first request. */
  #s3(): Promise<{ sdk: Sdk; client: S3Client }> {
    this.#sdk ??= loadSdk().then((sdk) => {
      this.#client = new sdk.S3Client(this.#config);
      return { sdk, client: this.#client };
    });
    this.#sdk.catch(() => (this.#sdk = undefined));
    return this.#sdk;
  }

  /** The underlying client, for advanced uses (and tests); it holds the credentials. */
  async client(): Promise<S3Client> {
    return (await this.#s3()).client;
  }

  async get(bucket: string, key: string): Promise<Readable> {
    this.#check(bucket, key);
    let body: unknown;
    try {
      const s3 = await this.#s3();
      const out = await s3.client.send(new s3.sdk.GetObjectCommand({ Bucket: bucket, Key: key }));
      body = out.Body;
    } catch (err) {
      throw this.#error('read', bucket, key, err);
    }
    if (!(body instanceof Readable)) {
      (body as { destroy?: () => void } | undefined)?.destroy?.();
      throw this.#ioError('read', bucket, key, undefined, 'the response body is not a Node stream');
    }
    // Hand out a PassThrough so that a failure mid-body (server gone, idle timeout,
    // truncated response) reaches the reader as a named storage error, and a reader that
    // stops early releases the connection.
    const source = body;
    const out = new PassThrough();
    source.on('error', (err) => out.destroy(this.#error('read', bucket, key, err)));
    out.on('close', () => {
      if (!source.readableEnded) source.destroy();
    });
    source.pipe(out);
    return out;
  }

  async putFile(bucket: string, key: string, sourcePath: string): Promise<void> {
    this.#check(bucket, key);
    let size: number;
    try {
      const stat = await fsp.stat(sourcePath);
      if (!stat.isFile()) throw this.#ioError('upload', bucket, key, undefined, `source ${sourcePath} is not a regular file`);
      size = stat.size;
    } catch (err) {
      if (err instanceof SwitchyardError) throw err;
      const code = (err as { code?: unknown }).code;
      const why = code === 'ENOENT' || code === 'ENOTDIR' ? `source file ${sourcePath} does not exist` : this.#redact(errText(err));
      throw this.#ioError('upload', bucket, key, err, why);
    }
    if (size > this.multipartThresholdBytes) await this.#putMultipart(bucket, key, createReadStream(sourcePath, { highWaterMark: MiB }), size);
    else await this.#putSingle(bucket, key, sourcePath, size);
  }

  async putBytes(bucket: string, key: string, data: Uint8Array | string): Promise<void> {
    this.#check(bucket, key);
    const body = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (body.byteLength > this.multipartThresholdBytes) {
      await this.#putMultipart(bucket, key, Readable.from([body]), body.byteLength);
      return;
    }
    // A buffer body can be sent again as it is, so the SDK's own retries cover it.
    try {
      const s3 = await this.#s3();
      await s3.client.send(new s3.sdk.PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: body.byteLength }));
      this.#knownBuckets.add(bucket);
    } catch (err) {
      throw this.#error('upload', bucket, key, err);
    }
  }

  async exists(bucket: string, key: string): Promise<boolean> {
    this.#check(bucket, key);
    try {
      const s3 = await this.#s3();
      await s3.client.send(new s3.sdk.HeadObjectCommand({ Bucket: bucket, Key: key }));
      this.#knownBuckets.add(bucket);
      return true;
    } catch (err) {
      if (!isNotFound(err)) throw this.#error('check', bucket, key, err);
    }
    // A HEAD answers 404 for a missing bucket too (it has no body to tell them apart); a
    // bucket that is not there is a configuration error, not an absent object.
    if (!this.#knownBuckets.has(bucket)) {
      try {
        const s3 = await this.#s3();
        await s3.client.send(new s3.sdk.HeadBucketCommand({ Bucket: bucket }));
        this.#knownBuckets.add(bucket);
      } catch (err) {
        if (isNotFound(err) || errName(err) === 'NoSuchBucket') throw new errors.SY_ERR_BUCKET_NOT_FOUND(this.name, bucket, this.#where());
        throw this.#error('check', bucket, key, err);
      }
    }
    return false;
  }

  async delete(bucket: string, key: string): Promise<void> {
    this.#check(bucket, key);
    try {
      const s3 = await this.#s3();
      await s3.client.send(new s3.sdk.DeleteObjectCommand({ Bucket: bucket, Key: key }));
    } catch (err) {
      if (errName(err) === 'NoSuchKey') return;
      throw this.#error('delete', bucket, key, err);
    }
  }

  describe(bucket: string, key: string): string {
    checkBucket(bucket, key);
    checkKey(bucket, key);
    return `s3://${bucket}/${key}`;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#client?.destroy();
  }

  /** One PutObject streamed from the file; retried here, as the SDK does not retry stream bodies. */
  async #putSingle(bucket: string, key: string, sourcePath: string, size: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const body = createReadStream(sourcePath);
      try {
        const s3 = await this.#s3();
        await s3.client.send(new s3.sdk.PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: size }));
        this.#knownBuckets.add(bucket);
        return;
      } catch (err) {
        if (attempt >= this.maxAttempts || !isRetryable(err)) throw this.#error('upload', bucket, key, err, attempt);
        await sleep(backoffMs(S3_RETRY, attempt));
      } finally {
        body.destroy();
      }
    }
  }

  /**
   * A multipart upload. S3 shows nothing of it until it completes; on failure it is aborted
   * here, not by lib-storage (leavePartsOnError: true), so that a failed abort (server gone)
   * cannot replace the error that made the upload fail.
   */
  async #putMultipart(bucket: string, key: string, body: Readable, size: number): Promise<void> {
    const { sdk, client } = await this.#s3();
    const upload = new sdk.Upload({
      client,
      params: { Bucket: bucket, Key: key, Body: body, ContentLength: size },
      partSize: this.partSizeBytes,
      queueSize: this.queueSize,
      leavePartsOnError: true,
    });
    try {
      await upload.done();
      this.#knownBuckets.add(bucket);
    } catch (err) {
      const error = this.#error('upload', bucket, key, err);
      const uploadId = upload.uploadId;
      if (uploadId) {
        try {
          const s3 = await this.#s3();
          await s3.client.send(new s3.sdk.AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
        } catch (abortErr) {
          if (errName(abortErr) !== 'NoSuchUpload') {
            error.message += `; the multipart upload could not be aborted either (${causeCode(abortErr)}), ` +
              'so its parts may stay on the server until a lifecycle rule removes them';
          }
        }
      }
      throw error;
    } finally {
      body.destroy();
    }
  }

  #check(bucket: string, key: string): void {
    checkBucket(bucket, key);
    checkKey(bucket, key);
    if (this.#closed) throw new errors.SY_ERR_STORAGE_IO(this.name, 'use', bucket, key, `the store for ${this.#where()} is closed`);
  }

  #where(): string {
    return redactUrl(this.endpoint);
  }

  /** Maps an SDK or network error to a catalogue error; never lets a credential through. */
  #error(op: Op, bucket: string, key: string, err: unknown, attempts?: number): SwitchyardError {
    if (err instanceof SwitchyardError) return err;
    const name = errName(err);
    const status = httpStatus(err);
    if (name === 'NoSuchBucket') return new errors.SY_ERR_BUCKET_NOT_FOUND(this.name, bucket, this.#where());
    if (op !== 'upload' && (name === 'NoSuchKey' || (op === 'read' && status === 404 && name !== 'NoSuchBucket'))) {
      return new errors.SY_ERR_OBJECT_NOT_FOUND(bucket, key);
    }
    const code = causeCode(err);
    if (status === 403 || AUTH_ERRORS.has(name)) {
      const e = new errors.SY_ERR_STORAGE_AUTH(this.name, op, bucket, key, this.#where(), code);
      e.cause = this.#safeCause(err);
      return e;
    }
    const tries = attempts ?? attemptsOf(err);
    const detail = this.#redact(errText(err).split('\n')[0]!.trim());
    const why = `request to ${this.#where()} failed${tries && tries > 1 ? ` after ${tries} attempts` : ''}: ${code}` +
      (detail && detail !== code ? ` (${detail})` : '') +
      // The endpoint could not be reached at all: say what to check (issue 15).
      (UNREACHABLE_CODES.has(code) ? `; check that an S3-compatible server runs at ${this.#where()} and is reachable from here, and that the endpoint is right (a worker's --s3-endpoint / SWITCHYARD_S3_ENDPOINT or the configuration service's /object-storage; a task's s3_host)` : '');
    return this.#ioError(op, bucket, key, err, why);
  }

  #ioError(op: string, bucket: string, key: string, cause: unknown, why: string): SwitchyardError {
    const err = new errors.SY_ERR_STORAGE_IO(this.name, op, bucket, key, why);
    if (cause !== undefined) err.cause = this.#safeCause(cause);
    return err;
  }

  /**
   * A plain copy of an error for `cause`: name, code, status and a redacted message. The SDK's
   * own error objects are not passed on, so nothing they carry can leak into logs.
   */
  #safeCause(err: unknown): Error {
    const copy = new Error(this.#redact(errText(err)));
    copy.name = errName(err) || 'Error';
    const code = causeCode(err);
    const status = httpStatus(err);
    Object.assign(copy, { code, ...(status !== undefined ? { httpStatusCode: status } : {}) });
    return copy;
  }

  #redact(text: string): string {
    let out = text;
    for (const s of this.#secrets) out = out.split(s).join('***');
    return out;
  }
}

/** Settings for slingshot's object storage: endpoint `https://{host}` unless the host has a scheme. */
export function s3StoreOptionsFromEndpoint(
  host: string,
  accessKeyId: string,
  secretAccessKey: string,
  extra: { scheme?: 'http' | 'https'; region?: string } & Partial<Omit<S3ObjectStoreOptions, 'endpoint' | 'accessKeyId' | 'secretAccessKey' | 'region'>> = {},
): S3ObjectStoreOptions {
  const { scheme = 'https', region = DEFAULT_S3_REGION, ...rest } = extra;
  const h = String(host ?? '').trim().replace(/\/+$/, '');
  if (h === '') throw new errors.SY_ERR_SETTINGS('s3 object store: the object storage host is empty');
  const endpoint = /^[a-z][a-z0-9+.-]*:\/\//i.test(h) ? h : `${scheme}://${h}`;
  return { ...rest, endpoint, region, accessKeyId, secretAccessKey, forcePathStyle: rest.forcePathStyle ?? true };
}

const GENERIC_NAMES = new Set(['', 'Error', 'Unknown', 'UnknownError']);
const noop = () => {};
const QUIET_LOGGER = { trace: noop, debug: noop, info: noop, warn: noop, error: noop };
const AUTH_ERRORS = new Set(['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken']);
/** Network codes that mean the endpoint was not reached (no server, no route, no name). */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH']);
const RETRYABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);

function errText(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0 && !err.message) return errText(err.errors[0]);
  return err instanceof Error ? err.message : String(err);
}

function errName(err: unknown): string {
  return typeof err === 'object' && err !== null && typeof (err as { name?: unknown }).name === 'string' ? (err as { name: string }).name : '';
}

function httpStatus(err: unknown): number | undefined {
  const s = (err as { $metadata?: { httpStatusCode?: unknown } } | undefined)?.$metadata?.httpStatusCode;
  return typeof s === 'number' ? s : undefined;
}

function attemptsOf(err: unknown): number | undefined {
  const a = (err as { $metadata?: { attempts?: unknown } } | undefined)?.$metadata?.attempts;
  return typeof a === 'number' ? a : undefined;
}

/** A short code for the cause: a network code (ECONNREFUSED), an S3 error name with its status, or the error name. */
function causeCode(err: unknown): string {
  if (typeof err !== 'object' || err === null) return 'unknown error';
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && code !== '') return code;
  if (err instanceof AggregateError && err.errors.length > 0) return causeCode(err.errors[0]);
  const status = httpStatus(err);
  const name = errName(err);
  if (status !== undefined) return GENERIC_NAMES.has(name) ? `HTTP ${status}` : `${name} (HTTP ${status})`;
  return name || 'unknown error';
}

function isNotFound(err: unknown): boolean {
  const name = errName(err);
  return name === 'NotFound' || name === 'NoSuchKey' || httpStatus(err) === 404;
}

function isRetryable(err: unknown): boolean {
  const status = httpStatus(err);
  if (status !== undefined) return status >= 500 || status === 429;
  const name = errName(err);
  if (name === 'TimeoutError') return true;
  return RETRYABLE_CODES.has(causeCode(err));
}

/** Between tries of one S3 call: 100 ms doubling up to 2 s, with jitter (THE backoff). */
const S3_RETRY: RetryPolicy = { maxAttempts: Number.MAX_SAFE_INTEGER, initialDelayMs: 100, maxDelayMs: 2_000, factor: 2, jitter: 1 };

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---- names

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const BUCKET_CHARS = /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/;

/** S3's bucket naming rules (general purpose buckets), which Garage follows too. */
export function checkBucket(bucket: string, key: string): void {
  const bad = (why: string): never => {
    throw new errors.SY_ERR_STORAGE_KEY(String(bucket), String(key), `bucket name ${why}`);
  };
  if (typeof bucket !== 'string' || bucket === '') bad('is empty');
  if (bucket.length < 3 || bucket.length > 63) bad(`must be 3 to 63 characters long (it has ${bucket.length})`);
  if (!BUCKET_CHARS.test(bucket)) {
    bad('may hold only lowercase letters, digits, "." and "-", and must start and end with a letter or a digit');
  }
  if (bucket.includes('..')) bad('must not hold two dots in a row');
  if (bucket.includes('.-') || bucket.includes('-.')) bad('must not hold "." next to "-"');
  if (IPV4.test(bucket)) bad('must not look like an IP address');
  if (bucket.startsWith('xn--') || bucket.startsWith('sthree-')) bad('must not start with "xn--" or "sthree-"');
  if (bucket.endsWith('-s3alias') || bucket.endsWith('--ol-s3')) bad('must not end with "-s3alias" or "--ol-s3"');
}

/**
 * Keys: any UTF-8 text S3 accepts, up to 1024 bytes, except control characters and "." or
 * ".." path segments, which URL normalisation on the way to the server could change.
 */
export function checkKey(bucket: string, key: string): void {
  const bad = (why: string): never => {
    throw new errors.SY_ERR_STORAGE_KEY(String(bucket), String(key), why);
  };
  if (typeof key !== 'string' || key === '') bad('it is empty');
  if (/\p{Cs}/u.test(key)) bad('it is not valid Unicode (a lone surrogate)');
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) bad(`it is longer than ${MAX_KEY_BYTES} bytes`);
  if (CONTROL_CHARS.test(key)) bad(key.includes('\0') ? 'it contains a NUL byte' : 'it contains a control character');
  for (const segment of key.split('/')) {
    if (segment === '..') bad('it contains a ".." segment');
    if (segment === '.') bad('it contains a "." segment');
  }
}
