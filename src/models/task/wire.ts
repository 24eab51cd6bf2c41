// The Core engine's wire formats (SPECS.md §3.2), field for field: the body of POST /compute
// (ServiceTask), the body of PATCH callback_url (TaskUpdate), the registration body of
// POST {engine}/services, and the enums they use. zod schemas give the types and the
// OpenAPI document; fastapi-errors.ts turns their failures into FastAPI's 422 bodies.

import { z } from 'zod';
import { parseUuid } from './uuid.js';

/** Task statuses of the service side (common-code TaskStatus), in its order. */
export const TASK_STATUSES = ['pending', 'fetching', 'processing', 'saving', 'finished', 'error', 'scheduled', 'skipped', 'unavailable'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** FieldDescriptionType: the only media types the engine knows. */
export const MEDIA_TYPES = [
  'image/jpeg', 'image/png', 'text/plain', 'text/csv', 'application/json', 'application/pdf', 'application/zip', 'audio/mpeg', 'audio/ogg',
] as const;
export type MediaType = (typeof MEDIA_TYPES)[number];

/** ExecutionUnitTag names and acronyms as in common-code's enums (the docs show "DP" for Data Preprocessing; the code uses "DPP"). */
export const EXECUTION_UNIT_TAGS = [
  ['Generic', 'GNR'], ['Image Processing', 'IP'], ['Image Recognition', 'IR'], ['Image Generation', 'IG'],
  ['Audio Processing', 'AP'], ['Audio Generation', 'AG'], ['Video Processing', 'VP'], ['Video Generation', 'VG'],
  ['Document Processing', 'DP'], ['Document Generation', 'DG'], ['Data Preprocessing', 'DPP'],
  ['Natural Language Processing', 'NLP'], ['Anomaly Detection', 'AD'], ['Recommendation', 'R'], ['Time Series', 'TS'],
  ['Clustering', 'C'], ['Segmentation', 'S'], ['Speech Recognition', 'SR'], ['Sentiment Analysis', 'SA'],
  ['Neural Networks', 'NN'], ['Explainable AI', 'XAI'],
] as const;
export type TagName = (typeof EXECUTION_UNIT_TAGS)[number][0];
export type TagAcronym = (typeof EXECUTION_UNIT_TAGS)[number][1];

const uuidString = z.string().refine((s) => parseUuid(s).ok, 'uuid').meta({ format: 'uuid' });

/** An absolute http(s) URL (s3_host is boto's endpoint_url, so it needs its scheme). */
export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
const httpUrl = z.string().refine(isHttpUrl, 'url');

export const serviceTaskTaskSchema = z.object({
  id: uuidString,
  data_in: z.array(z.string()),
  data_out: z.array(z.string()).nullable().optional(),
  status: z.enum(TASK_STATUSES),
  error_message: z.string().nullable().optional(),
  service_id: uuidString,
  pipeline_execution_id: uuidString.nullable().optional(),
});

/** Body of POST /compute. Unknown fields (created_at, updated_at, ...) are ignored, as pydantic does. */
export const serviceTaskSchema = z.object({
  s3_access_key_id: z.string(),
  s3_secret_access_key: z.string(),
  s3_region: z.string(),
  s3_host: httpUrl.describe('S3 endpoint URL with its scheme, e.g. http://minio:9000'),
  s3_bucket: z.string(),
  task: serviceTaskTaskSchema,
  callback_url: httpUrl.describe('where the TaskUpdate is PATCHed, {engine}/tasks/{task id}'),
});
export type ServiceTask = z.output<typeof serviceTaskSchema>;

/** Body of PATCH callback_url. Every key is always sent (jsonable_encoder keeps the Nones). */
export interface TaskUpdate {
  readonly service: null;
  readonly url: null;
  /** The engine's TaskUpdate requires a list: [] when the task failed. */
  readonly data_out: readonly string[];
  readonly status: TaskStatus;
  readonly error_message: string | null;
}

export interface FieldDescription {
  readonly name: string;
  readonly type: readonly MediaType[];
  /** Any JSON value the engine shows beside the field (common-code FieldDescription.format_hint); sent only when declared. */
  readonly format_hint?: unknown;
}

/** Body of POST {engine}/services and PATCH {engine}/services/{id}, keys in common-code's order. */
export interface ServiceRegistration {
  readonly name: string;
  readonly slug: string;
  readonly url: string;
  readonly summary: string;
  readonly description: string | null;
  readonly status: 'available';
  readonly data_in_fields: readonly FieldDescription[];
  readonly data_out_fields: readonly FieldDescription[];
  readonly tags: readonly { readonly name: TagName; readonly acronym: TagAcronym }[];
  readonly docs_url: string;
  readonly has_ai: boolean;
}

/** The engine's default docs_url, sent when a service declares none. */
export const DEFAULT_DOCS_URL = 'https://docs.swiss-ai-center.ch/reference/core-concepts/service';

export const STATUS_BODY = { status: 'Service is available' } as const;
export const QUEUED_BODY = { status: 'Task added to the queue' } as const;
export const QUEUE_FULL_BODY = { detail: 'Queue is full' } as const;
