// The schema layer's face: declare types once with zod, infer TypeScript types, validate
// with errors that name the field, and move schemas to and from JSON Schema.
export { z } from 'zod';
export { validate, check, problemsOf, describeProblems, formatPath, kindOf } from './validate.js';
export type { Schema, Infer, InferInput, ValidationProblem, CheckResult } from './validate.js';
export { toJsonSchema, fromJsonSchema } from './json-schema.js';
export type { JsonSchema, ToJsonSchemaOptions } from './json-schema.js';
export { bytes, datetime } from './wire-types.js';
