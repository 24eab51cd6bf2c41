// 422 bodies in FastAPI's shape, so an engine (or a person) sees what a reference service
// would send: {"detail": [{"type", "loc", "msg", "input", "ctx"?}, ...]}, one entry per
// failing field in declaration order, `loc` starting with "body" or "path". The types and
// messages are pydantic v2's for the field's declared type. One difference on purpose:
// S3 credentials are never echoed back in `input` (FastAPI would echo them).

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

const ENUM_EXPECTED = `${TASK_STATUSES.slice(0, -1).map((s) => `'${s}'`).join(', ')} or '${TASK_STATUSES.at(-1)}'`;

/** `input` as it may be shown: credential fields of an echoed object replaced. */
function safeInput(value: unknown, lastKey: string | number | undefined): unknown {
  if (typeof lastKey === 'string' && CREDENTIAL_FIELDS.has(lastKey)) return REDACTED_INPUT;
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    for (const k of CREDENTIAL_FIELDS) if (k in copy) copy[k] = REDACTED_INPUT;
    return copy;
  }
  return value;
}

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
function entry(kind: Kind, loc: (string | number)[], value: unknown, present: boolean, parent: unknown): FastApiErrorEntry {
  const last = loc.at(-1);
  if (!present) return { type: 'missing', loc, msg: 'Field required', input: safeInput(parent ?? null, undefined) };
  const input = safeInput(value, last);
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
    out.push(entry(kind, ['body', ...path], value, present, parent));
  }
  return out;
}

/** 422 for a body that is not JSON at all, as FastAPI sends it. */
export function jsonInvalidBody(position: number, message: string): FastApiValidationBody {
  return { detail: [{ type: 'json_invalid', loc: ['body', position], msg: 'JSON decode error', input: {}, ctx: { error: message } }] };
}

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
