// The service's HTTP face, exactly the reference's (SPECS.md §3.1): GET /status,
// GET /tasks/{task_id}/status, POST /compute, and GET / redirecting to /docs. Bodies and
// status codes match FastAPI's, 422s included. Optional bearer-token auth guards the two
// task routes (never /status: the engine's liveness check carries no token). Every refusal
// of a peer's request is told to the desk, which reports it on the observer stream.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { HttpRequest, HttpResponse, HttpRoute } from '../../transports/http/http-types.js';
import { toJsonSchema } from '../../schema/json-schema.js';
import { readJsonBody } from './fastapi-body.js';
import { BODY_PARSE_ERROR, jsonInvalidBody, missingBody, notJsonBody, pathUuidError, serviceTaskErrors } from './fastapi-errors.js';
import type { RejectReason, STATUS_INPUT, TASK_INPUT } from './task-events.js';
import { parseUuid } from './uuid.js';
import { QUEUE_FULL_BODY, QUEUED_BODY, STATUS_BODY, TASK_STATUSES, serviceTaskSchema, type ServiceTask, type TaskStatus } from './wire.js';

/** `refused`: the task may not be taken (e.g. its callback_url is outside the allow-list), with the reason. */
export type SubmitResult = 'queued' | 'full' | 'duplicate' | { readonly refused: string };

/** What the routes need of the task desk (task-desk.ts). */
export interface TaskDeskPort {
  /** Reports its own refusals (full, duplicate, outbound). */
  submit(task: ServiceTask, id: string): SubmitResult | Promise<SubmitResult>;
  statusOf(id: string): TaskStatus | undefined;
  /** A request refused before it reached the desk (auth, unreadable or invalid input). */
  refused(input: typeof TASK_INPUT | typeof STATUS_INPUT, reason: RejectReason): void;
}

const json = (status: number, body: unknown, headers?: Record<string, string>): HttpResponse => ({ status, body, ...(headers ? { headers } : {}) });

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** A check of `Authorization: Bearer <token>` in constant time; undefined when auth is off. */
function bearerCheck(token: string | undefined): ((req: HttpRequest) => HttpResponse | undefined) | undefined {
  if (token === undefined) return undefined;
  const expected = digest(token);
  return (req) => {
    const header = req.headers.authorization;
    const value = Array.isArray(header) ? header[0] : header;
    const m = /^Bearer\s+(.+)$/i.exec(value ?? '');
    if (m && timingSafeEqual(digest(m[1]!.trim()), expected)) return undefined;
    return json(401, { detail: 'Not authenticated' }, { 'www-authenticate': 'Bearer' });
  };
}

const detailSchema = { type: 'object', properties: { detail: {} } };
const statusSchema = { type: 'object', properties: { status: { type: 'string' } }, required: ['status'] };

export function taskRoutes(desk: TaskDeskPort, authToken: string | undefined): HttpRoute[] {
  const check = bearerCheck(authToken);
  const guard = check && ((req: HttpRequest, input: typeof TASK_INPUT | typeof STATUS_INPUT) => {
    const denied = check(req);
    if (denied) desk.refused(input, 'unauthorized');
    return denied;
  });
  const refuse = (reason: RejectReason, response: HttpResponse, input: typeof TASK_INPUT | typeof STATUS_INPUT = 'compute') => {
    desk.refused(input, reason);
    return response;
  };
  const secured = guard !== undefined;
  return [
    {
      method: 'GET', path: '/', hidden: true,
      handler: () => ({ status: 301, headers: { location: '/docs' } }),
    },
    {
      method: 'GET', path: '/status', summary: 'Get service availability', tags: ['Service'],
      schema: { responses: { 200: { description: 'The service is up', schema: statusSchema } } },
      handler: () => json(200, STATUS_BODY),
    },
    {
      method: 'GET', path: '/tasks/{task_id}/status', summary: 'Get the status of a task', tags: ['Tasks'], secured,
      schema: {
        params: { type: 'object', properties: { task_id: { type: 'string', format: 'uuid' } }, required: ['task_id'] },
        responses: {
          200: { description: `The task's status: one of ${TASK_STATUSES.join(', ')}`, schema: { type: 'object', properties: { status: { type: 'string', enum: [...TASK_STATUSES] } } } },
          404: { description: 'No such task (finished tasks are forgotten once the engine was told)', schema: detailSchema },
          422: { description: 'task_id is not a UUID', schema: detailSchema },
        },
      },
      handler: (req) => {
        const denied = guard?.(req, 'task-status');
        if (denied) return denied;
        const raw = req.params.task_id ?? '';
        const parsed = parseUuid(raw);
        if (!parsed.ok) return refuse('invalid', json(422, pathUuidError('task_id', raw)), 'task-status');
        const status = desk.statusOf(parsed.uuid);
        if (status === undefined) return json(404, { detail: `Task ${parsed.uuid} not found` });
        return json(200, { status });
      },
    },
    {
      method: 'POST', path: '/compute', summary: 'Queue a task', tags: ['Tasks'], secured,
      description: 'Fetches data_in from S3, runs the service, uploads data_out and PATCHes callback_url with the TaskUpdate.',
      schema: {
        body: toJsonSchema(serviceTaskSchema, { title: 'ServiceTask', io: 'input' }),
        responses: {
          200: { description: 'Queued', schema: statusSchema },
          400: { description: 'The body\'s bytes are not text (UTF-8, or UTF-16/32 as Python detects it)', schema: detailSchema },
          403: { description: 'callback_url or s3_host is outside OUTBOUND_ALLOW_LIST', schema: detailSchema },
          409: { description: 'A task with this id is already queued or running', schema: detailSchema },
          422: { description: 'The body is not a valid ServiceTask; detail names each failing field', schema: detailSchema },
          503: { description: 'Queue is full (MAX_TASKS tasks in flight, or MAX_PENDING_CALLBACKS ended tasks not yet told to the engine)', schema: detailSchema },
        },
      },
      handler: async (req) => {
        const denied = guard?.(req, 'compute');
        if (denied) return denied;
        const contentType = req.headers['content-type'];
        const body = readJsonBody(req.rawBody, Array.isArray(contentType) ? contentType[0] : contentType);
        switch (body.kind) {
          case 'missing':
            return refuse('invalid', json(422, missingBody()));
          case 'not-json':
            return refuse('invalid', json(422, notJsonBody()));
          case 'json-invalid':
            return refuse('invalid', json(422, jsonInvalidBody(body.pos, body.message)));
          case 'undecodable':
            return refuse('undecodable', json(400, BODY_PARSE_ERROR));
          case 'json':
            break;
        }
        const checked = serviceTaskSchema.safeParse(body.value);
        if (!checked.success) return refuse('invalid', json(422, { detail: serviceTaskErrors(checked.error, body.value) }));
        const id = (parseUuid(checked.data.task.id) as { uuid: string }).uuid;
        const result = await desk.submit(checked.data, id);
        switch (result) {
          case 'queued':
            return json(200, QUEUED_BODY);
          case 'full':
            return json(503, QUEUE_FULL_BODY);
          case 'duplicate':
            return json(409, { detail: `Task ${id} is already queued or running` });
          default:
            return json(403, { detail: result.refused });
        }
      },
    },
  ];
}
