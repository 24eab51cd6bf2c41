// An S3-compatible server for tests: s3rver, in this process, on 127.0.0.1, its data in a
// temp folder. `stop()` takes it down the way a crash would (open connections cut, data
// kept); `restart()` brings it back on the same port with the same data; `close()` stops it
// and removes the folder.
//
// s3rver does not check SigV4 signatures: any secret key is accepted as long as the access
// key id is registered. The default pair is S3RVER / S3RVER; `accessKeyId` registers another
// id (in s3rver's process-wide account registry), so tests can use distinctive credentials.

import * as fsp from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

interface S3rverApp {
  configureBuckets(): Promise<unknown>;
  /** The Koa request handler. */
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  logger?: { close?(): void };
}
interface S3rverCtor {
  new (options: {
    directory: string;
    silent: boolean;
    vhostBuckets?: boolean;
    configureBuckets?: { name: string }[];
  }): S3rverApp;
}
interface AccountModule {
  DUMMY_ACCOUNT: { createKeyPair(accessKeyId: string, secretAccessKey: string): void };
}

const require = createRequire(import.meta.url);
const S3rver = require('s3rver') as S3rverCtor;
const accounts = require('s3rver/lib/models/account.js') as AccountModule;

export interface S3ServerOptions {
  /** Buckets to create at start. */
  buckets?: string[];
  /** An access key id to accept besides S3RVER. */
  accessKeyId?: string;
  /** Handed back as `secretAccessKey`; s3rver does not check SigV4 signatures, so any value works. */
  secretAccessKey?: string;
  /** Default: a new temp folder, removed by close(). */
  directory?: string;
}

export interface S3Server {
  /** http://127.0.0.1:{port} */
  readonly endpoint: string;
  readonly port: number;
  readonly directory: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly running: boolean;
  /** Stops the server like a crash would: connections cut, data kept on disk. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same data. */
  restart(): Promise<void>;
  /** Stops it (if running) and removes the temp folder it created. */
  close(): Promise<void>;
}

export async function startS3Server(options: S3ServerOptions = {}): Promise<S3Server> {
  const ownDir = options.directory === undefined;
  const directory = options.directory ?? (await fsp.mkdtemp(path.join(os.tmpdir(), 'switchyard-s3rver-')));
  const accessKeyId = options.accessKeyId ?? 'S3RVER';
  if (accessKeyId !== 'S3RVER') accounts.DUMMY_ACCOUNT.createKeyPair(accessKeyId, 'unchecked');
  const configureBuckets = (options.buckets ?? []).map((name) => ({ name }));

  // s3rver is a Koa app: its handler is served from a server of our own, so that listen
  // errors are caught and a restart reuses the app (and its open logger).
  let app: S3rverApp;
  try {
    app = new S3rver({ directory, silent: true, vhostBuckets: false, configureBuckets });
    await app.configureBuckets();
  } catch (err) {
    if (ownDir) await fsp.rm(directory, { recursive: true, force: true });
    throw err;
  }
  const handler = app.callback();

  let port = 0;
  let current: Server | undefined;

  const listenOnce = () =>
    new Promise<Server>((resolve, reject) => {
      const server = createServer(handler);
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve(server);
      });
    });

  const start = async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        const server = await listenOnce();
        port = (server.address() as AddressInfo).port;
        current = server;
        return;
      } catch (err) {
        // After a stop the port is normally free at once; allow a moment if it is not.
        if ((err as { code?: string }).code !== 'EADDRINUSE' || port === 0 || attempt >= 40) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };

  const stop = async () => {
    const server = current;
    if (!server) return;
    current = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  };

  try {
    await start();
  } catch (err) {
    if (ownDir) await fsp.rm(directory, { recursive: true, force: true });
    throw err;
  }

  return {
    get endpoint() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    directory,
    accessKeyId,
    secretAccessKey: options.secretAccessKey ?? 'S3RVER',
    get running() {
      return current !== undefined;
    },
    stop,
    async restart() {
      if (current) return;
      await start();
    },
    async close() {
      await stop();
      app.logger?.close?.();
      if (ownDir) await fsp.rm(directory, { recursive: true, force: true });
    },
  };
}
