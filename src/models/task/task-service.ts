// The task model's face (a Core engine service): a declaration of what the service is and
// which typed files it takes and gives, and a `process` function from input files to
// output files. `taskService()` only describes the service (marked as a task-model
// definition for the runtime); runner.ts builds the component that serves it.
// The declaration's literal types flow into `process`: inputs are keyed by the declared
// input names, each output must be one of its field's declared media types.

import type { Readable } from 'node:stream';
import { errors } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import { markDefinition, modelOf } from '../../runtime/model.js';
import {
  DEFAULT_DOCS_URL, EXECUTION_UNIT_TAGS, MEDIA_TYPES, isHttpUrl,
  type FieldDescription, type MediaType, type TagAcronym, type TagName,
} from './wire.js';

export interface FieldDeclaration {
  readonly name: string;
  /** Media types this field accepts (inputs) or may carry (outputs), from the engine's list. */
  readonly types: readonly MediaType[];
  /** A hint about the expected content, any JSON value (e.g. { columns: [...] }); sent to the engine as `format_hint`. */
  readonly formatHint?: unknown;
}

/** A tag by its name ("Image Processing"), its acronym ("IP") or both. */
export type TagDeclaration = TagName | TagAcronym | { readonly name: TagName; readonly acronym: TagAcronym };

export interface TaskServiceDeclaration<I extends readonly FieldDeclaration[] = readonly FieldDeclaration[], O extends readonly FieldDeclaration[] = readonly FieldDeclaration[]> {
  /** Display name, e.g. "Average Shade". */
  readonly name: string;
  /** Unique id on the engine and its route there (`POST /{slug}`): lower-case words joined by "-". */
  readonly slug: string;
  readonly summary: string;
  readonly description?: string;
  /** Inputs in order: the task's data_in keys are matched to them by position. */
  readonly dataIn: I;
  readonly dataOut: O;
  readonly tags?: readonly TagDeclaration[];
  readonly hasAi?: boolean;
  readonly docsUrl?: string;
}

/** One input file of a task. Read it once: `stream()`, or `bytes()` / `text()` (cached). */
export interface TaskInputFile<T extends MediaType = MediaType> {
  /** The input's declared name. */
  readonly name: string;
  /** Its media type, from the key's extension; one of the field's declared types. */
  readonly type: T;
  /** The S3 object key (from the task's data_in). */
  readonly key: string;
  stream(): Readable;
  bytes(): Promise<Buffer>;
  text(): Promise<string>;
}

/** One output file: its media type (one of the field's) and its content. */
export interface TaskOutputFile<T extends MediaType = MediaType> {
  readonly type: T;
  readonly data: string | Uint8Array | Readable;
}

type NamesOf<F extends readonly FieldDeclaration[]> = F[number]['name'];
type TypesOf<F extends readonly FieldDeclaration[], N> = Extract<F[number], { readonly name: N }>['types'][number];

export type TaskInputs<I extends readonly FieldDeclaration[]> = { readonly [N in NamesOf<I>]: TaskInputFile<TypesOf<I, N>> };
export type TaskOutputs<O extends readonly FieldDeclaration[]> = { readonly [N in NamesOf<O>]: TaskOutputFile<TypesOf<O, N>> };

export interface TaskContext {
  /** The task's id, canonical UUID form. */
  readonly taskId: string;
  /** A logger carrying the service slug and the task id. */
  readonly log: Logger;
  /** Aborted when the task ran past TASK_TIMEOUT (the task has then already failed): stop work early. */
  readonly signal: AbortSignal;
}

export type TaskProcessFn<I extends readonly FieldDeclaration[], O extends readonly FieldDeclaration[]> =
  (inputs: TaskInputs<I>, context: TaskContext) => TaskOutputs<O> | Promise<TaskOutputs<O>>;

export interface TaskServiceDefinition {
  readonly kind: 'task';
  readonly name: string;
  readonly slug: string;
  readonly summary: string;
  readonly description: string | null;
  readonly dataIn: readonly FieldDescription[];
  readonly dataOut: readonly FieldDescription[];
  readonly tags: readonly { readonly name: TagName; readonly acronym: TagAcronym }[];
  readonly hasAi: boolean;
  readonly docsUrl: string;
  /** Untyped at run time: the declaration checked the shapes once. */
  readonly process: (inputs: Readonly<Record<string, TaskInputFile>>, context: TaskContext) => unknown;
}

const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** Whether `value` survives JSON as it is: no undefined, functions, NaN, class instances or cycles (depth-bounded). */
function isJsonValue(value: unknown, depth: number): boolean {
  if (depth > 64) return false;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((v) => isJsonValue(v, depth + 1));
  if (typeof value === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(value))) {
    return Object.values(value as Record<string, unknown>).every((v) => isJsonValue(v, depth + 1));
  }
  return false;
}

function resolveTag(tag: unknown, problems: string[], index: number): { name: TagName; acronym: TagAcronym } | undefined {
  const known = EXECUTION_UNIT_TAGS.map(([name, acronym]) => `${name} (${acronym})`).join(', ');
  const byName = (s: unknown) => EXECUTION_UNIT_TAGS.find(([name, acronym]) => name === s || acronym === s);
  if (typeof tag === 'string') {
    const found = byName(tag);
    if (found) return { name: found[0], acronym: found[1] };
  } else if (tag && typeof tag === 'object') {
    const { name, acronym } = tag as { name?: unknown; acronym?: unknown };
    const found = EXECUTION_UNIT_TAGS.find(([n, a]) => n === name && a === acronym);
    if (found) return { name: found[0], acronym: found[1] };
  }
  problems.push(`tags[${index}] is not an engine tag; use one of: ${known}`);
  return undefined;
}

function checkFields(what: 'dataIn' | 'dataOut', fields: unknown, problems: string[]): FieldDescription[] {
  if (!Array.isArray(fields) || fields.length === 0) {
    problems.push(`${what} must be a non-empty list of { name, types }`);
    return [];
  }
  const names = new Set<string>();
  const out: FieldDescription[] = [];
  fields.forEach((field: unknown, i) => {
    const { name, types, formatHint } = (field ?? {}) as { name?: unknown; types?: unknown; formatHint?: unknown };
    if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name)) {
      problems.push(`${what}[${i}].name must be a name of letters, digits, "_" or "-" (it names a form field on the engine)`);
      return;
    }
    if (names.has(name)) problems.push(`${what}[${i}].name "${name}" is declared twice`);
    names.add(name);
    if (!Array.isArray(types) || types.length === 0) {
      problems.push(`${what}[${i}] ("${name}").types must be a non-empty list of media types`);
      return;
    }
    const bad = types.filter((t) => !(MEDIA_TYPES as readonly unknown[]).includes(t));
    if (bad.length > 0) problems.push(`${what}[${i}] ("${name}").types has ${bad.map((t) => JSON.stringify(t)).join(', ')}, which the engine does not know; use ${MEDIA_TYPES.join(', ')}`);
    const hinted = formatHint !== undefined && isJsonValue(formatHint, 0);
    if (formatHint !== undefined && !hinted) problems.push(`${what}[${i}] ("${name}").formatHint must be a JSON value (null, true/false, a finite number, a string, or lists and plain objects of those)`);
    out.push({ name, type: [...new Set(types as MediaType[])], ...(hinted ? { format_hint: structuredClone(formatHint) } : {}) });
  });
  return out;
}

export function taskService<const I extends readonly FieldDeclaration[], const O extends readonly FieldDeclaration[]>(
  declaration: TaskServiceDeclaration<I, O>,
  process: TaskProcessFn<I, O>,
): TaskServiceDefinition {
  const problems: string[] = [];
  const d = (declaration ?? {}) as Partial<TaskServiceDeclaration>;
  const text = (key: 'name' | 'summary', value: unknown) => {
    if (typeof value !== 'string' || value.trim() === '') problems.push(`${key} must be a non-empty string`);
  };
  text('name', d.name);
  text('summary', d.summary);
  if (typeof d.slug !== 'string' || !SLUG.test(d.slug)) problems.push(`slug ${JSON.stringify(d.slug)} must be lower-case letters and digits in words joined by "-", e.g. "average-shade"`);
  if (d.description !== undefined && typeof d.description !== 'string') problems.push('description must be a string');
  if (d.hasAi !== undefined && typeof d.hasAi !== 'boolean') problems.push('hasAi must be true or false');
  if (d.docsUrl !== undefined && (typeof d.docsUrl !== 'string' || !isHttpUrl(d.docsUrl))) problems.push('docsUrl must be an http:// or https:// URL');
  const dataIn = checkFields('dataIn', d.dataIn, problems);
  const dataOut = checkFields('dataOut', d.dataOut, problems);
  if (d.tags !== undefined && !Array.isArray(d.tags)) problems.push('tags must be a list');
  const tags = (Array.isArray(d.tags) ? d.tags : []).map((t, i) => resolveTag(t, problems, i)).filter((t) => t !== undefined);
  if (typeof process !== 'function') problems.push('process must be a function (inputs, context) => outputs');
  if (problems.length > 0) throw new errors.SY_ERR_TASK_DECLARATION(problems);
  return markDefinition({
    kind: 'task' as const,
    name: d.name!,
    slug: d.slug!,
    summary: d.summary!,
    description: d.description ?? null,
    dataIn,
    dataOut,
    tags,
    hasAi: d.hasAi ?? false,
    docsUrl: d.docsUrl ?? DEFAULT_DOCS_URL,
    process: process as unknown as TaskServiceDefinition['process'],
  }, 'task');
}

export function isTaskServiceDefinition(value: unknown): value is TaskServiceDefinition {
  return modelOf(value) === 'task' || (typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'task');
}
