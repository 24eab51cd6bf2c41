// 422 bodies in FastAPI's shape, so an engine (or a person) sees what a reference service
// would send: {"detail": [{"type", "loc", "msg", "input", "ctx"?}, ...]}, one entry per
// failing field in declaration order, `loc` starting with "body" or "path". The types and
// messages are pydantic v2's for the field's declared type.
//
// One difference on purpose: `input` (the value that failed) is shown only where it cannot
// carry a secret. Strings are shown only from fields the ServiceTask declares, never the two
// S3 credentials (URLs without their user:password); values of fields the model does not
// declare, and a body that is not an object, show as "[redacted]". FastAPI echoes them all.

import type { z } from 'zod';
import { parseUuid } from './uuid.js';
import { TASK_STATUSES } from './wire.js';

export interface FastApiErrorEntry {
  readonly type: string;
  readonly loc: readonly (string | number)[];
  readonly msg: string;
  readonly input: unknown;
  readonly ctx?: Readonly<Record<string, unknown>>;
}
export interface FastApiValidationBody {
  readonly detail: readonly FastApiErrorEntry[];
}

type Kind = 'model' | 'str' | 'uuid' | 'list' | 'enum' | 'url';

/** The declared type of each ServiceTask field; list items are "*". */
const SERVICE_TASK_KINDS: Readonly<Record<string, Kind>> = {
  '': 'model',
  s3_access_key_id: 'str', s3_secret_access_key: 'str', s3_region: 'str', s3_host: 'url', s3_bucket: 'str',
  task: 'model',
  'task.id': 'uuid', 'task.data_in': 'list', 'task.data_in.*': 'str', 'task.data_out': 'list', 'task.data_out.*': 'str',
  'task.status': 'enum', 'task.error_message': 'str', 'task.service_id': 'uuid', 'task.pipeline_execution_id': 'uuid',
  callback_url: 'url',
};

const CREDENTIAL_FIELDS = new Set(['s3_access_key_id', 's3_secret_access_key']);
export const REDACTED_INPUT = '[redacted]';

/** Where a value sits in the ServiceTask, for deciding what of it may be echoed. */
type Node = 'root' | 'task' | 'string' | 'url' | 'strings' | 'credential' | 'undeclared';

const ROOT_FIELDS: Readonly<Record<string, Node>> = {
  s3_access_key_id: 'credential', s3_secret_access_key: 'credential',
  s3_region: 'string', s3_host: 'url', s3_bucket: 'string', task: 'task', callback_url: 'url',
};
/** The engine's TaskRead also carries created_at and updated_at. */
const TASK_FIELDS: Readonly<Record<string, Node>> = {
  id: 'string', data_in: 'strings', data_out: 'strings', status: 'string', error_message: 'string',
  service_id: 'string', pipeline_execution_id: 'string', created_at: 'string', updated_at: 'string',
};

function child(node: Node, key: string | number): Node {
  if (node === 'root' || node === 'task') {
    const fields = node === 'root' ? ROOT_FIELDS : TASK_FIELDS;
    return typeof key === 'string' && Object.hasOwn(fields, key) ? fields[key]! : 'undeclared';
  }
  if (node === 'strings' && typeof key === 'number') return 'string';
  return node === 'credential' ? 'credential' : 'undeclared';
}

function nodeAt(path: readonly (string | number)[]): Node {
  return path.reduce<Node>((node, key) => child(node, key), 'root');
}

/** A URL as given, with any user:password@ replaced by ***@ (nothing else changed). */
function withoutUserInfo(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)@/i, '$1***@');
}

/** `value` as it may be shown in `input`, given where it sits (see the header comment). */
export function safeInput(value: unknown, node: Node): unknown {
  if (node === 'credential') return REDACTED_INPUT;
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    if (node === 'string') return value;
    if (node === 'url') return withoutUserInfo(value);
    return REDACTED_INPUT;
  }
  if (Array.isArray(value)) {
    if (node === 'strings') return value.map((item) => safeInput(item, 'string'));
    return REDACTED_INPUT;
  }
  if (typeof value === 'object' && (node === 'root' || node === 'task')) {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, safeInput(v, child(node, k))]));
  }
  return REDACTED_INPUT;
}

const ENUM_EXPECTED = `${TASK_STATUSES.slice(0, -1).map((s) => `'${s}'`).join(', ')} or '${TASK_STATUSES.at(-1)}'`;

function at(root: unknown, path: readonly PropertyKey[]): { parent: unknown; value: unknown; present: boolean } {
  let parent: unknown = undefined;
  let value: unknown = root;
  let present = true;
  for (const key of path) {
    parent = value;
    if (value === null || typeof value !== 'object' || !(key in (value as object))) {
      return { parent, value: undefined, present: false };
    }
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return { parent, value, present };
}

/** One pydantic-style entry for a failing field of a given kind. */
function entry(kind: Kind, path: (string | number)[], value: unknown, present: boolean, parent: unknown): FastApiErrorEntry {
  const loc = ['body', ...path];
  if (!present) return { type: 'missing', loc, msg: 'Field required', input: safeInput(parent ?? null, nodeAt(path.slice(0, -1))) };
  const input = safeInput(value, nodeAt(path));
  switch (kind) {
    case 'model':
      return { type: 'model_attributes_type', loc, msg: 'Input should be a valid dictionary or object to extract fields from', input };
    case 'list':
      return { type: 'list_type', loc, msg: 'Input should be a valid list', input };
    case 'enum':
      return { type: 'enum', loc, msg: `Input should be ${ENUM_EXPECTED}`, input, ctx: { expected: ENUM_EXPECTED } };
    case 'uuid': {
      if (typeof value !== 'string') return { type: 'uuid_type', loc, msg: 'UUID input should be a string, bytes or UUID object', input };
      const parsed = parseUuid(value);
      const error = parsed.ok ? 'invalid UUID' : parsed.error;
      return { type: 'uuid_parsing', loc, msg: `Input should be a valid UUID, ${error}`, input, ctx: { error } };
    }
    case 'url':
      if (typeof value !== 'string') return { type: 'string_type', loc, msg: 'Input should be a valid string', input };
      return { type: 'url_parsing', loc, msg: 'Input should be an absolute URL with an http:// or https:// scheme, e.g. http://minio:9000', input, ctx: { error: 'relative URL or unsupported scheme' } };
    case 'str':
      return { type: 'string_type', loc, msg: 'Input should be a valid string', input };
  }
}

/** The FastAPI 422 entries for a ServiceTask body that failed its schema. */
export function serviceTaskErrors(error: z.ZodError, body: unknown): FastApiErrorEntry[] {
  const seen = new Set<string>();
  const out: FastApiErrorEntry[] = [];
  for (const issue of error.issues) {
    const path = issue.path.filter((p): p is string | number => typeof p === 'string' || typeof p === 'number');
    const id = JSON.stringify(path);
    if (seen.has(id)) continue;
    seen.add(id);
    const kindKey = path.map((p) => (typeof p === 'number' ? '*' : p)).join('.');
    const kind = SERVICE_TASK_KINDS[kindKey] ?? 'str';
    const { parent, value, present } = at(body, path);
    out.push(entry(kind, path, value, present, parent));
  }
  return out;
}

/** 422 for a body that is not JSON at all, as FastAPI sends it: Python's message and character offset. */
export function jsonInvalidBody(position: number, message: string): FastApiValidationBody {
  return { detail: [{ type: 'json_invalid', loc: ['body', position], msg: 'JSON decode error', input: {}, ctx: { error: message } }] };
}

/** 422 for a body sent with a content type FastAPI does not read as JSON (it stays bytes, not an object). */
export function notJsonBody(): FastApiValidationBody {
  return { detail: [{ type: 'model_attributes_type', loc: ['body'], msg: 'Input should be a valid dictionary or object to extract fields from', input: REDACTED_INPUT }] };
}

/** 400 for a body whose bytes do not decode as text (FastAPI: any other error while reading the body). */
export const BODY_PARSE_ERROR = { detail: 'There was an error parsing the body' } as const;

/** 422 for a request without a body. */
export function missingBody(): FastApiValidationBody {
  return { detail: [{ type: 'missing', loc: ['body'], msg: 'Field required', input: null }] };
}

/** 422 for a path parameter that is not a UUID. */
export function pathUuidError(name: string, value: string): FastApiValidationBody {
  const parsed = parseUuid(value);
  const error = parsed.ok ? 'invalid UUID' : parsed.error;
  return { detail: [{ type: 'uuid_parsing', loc: ['path', name], msg: `Input should be a valid UUID, ${error}`, input: value, ctx: { error } }] };
}
