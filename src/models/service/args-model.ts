// Validation of every args dict that crosses a connection or a state, in both directions
// (SPECS.md §2.4 "Validation points"): outbound before sending, inbound before the handler,
// return args before the reply and after receiving it. One error for all of them,
// SY_ERR_VALIDATION, naming what was checked (the connection or state and the direction),
// each key and the expected type.

import { errors } from '../../errors.js';
import { describeProblems, problemsOf } from '../../schema/validate.js';
import type { ArgsModel, ReturnModel } from './definition.js';
import { argsProblems, compileArgsCheck, compileFloatMarker } from './type-grammar.js';

/** Checks `args` against a model (plus the args every state of a type carries); returns them, parsed if zod. */
export function checkArgs(
  args: unknown,
  model: { schema?: unknown; required?: Readonly<Record<string, unknown>>; optional?: Readonly<Record<string, unknown>> },
  subject: string,
  builtIn: { required?: Record<string, unknown>; optional?: Record<string, unknown> } = {},
): Record<string, unknown> {
  const schema = model.schema as { safeParse?: (v: unknown) => { success: boolean; data?: unknown; error?: unknown } } | undefined;
  if (schema?.safeParse) {
    // The built-in args (e.g. a delta state's current_num) are the framework's: checked with
    // the grammar; the rest is the user's zod schema's.
    const builtInProblems = argsProblems(args, builtIn.required, builtIn.optional, { allowUndeclared: true });
    if (builtInProblems.length > 0) throw new errors.SY_ERR_VALIDATION(subject, describeProblems(builtInProblems));
    const r = schema.safeParse(args);
    if (!r.success) throw new errors.SY_ERR_VALIDATION(subject, describeProblems(problemsOf(r.error as never, args)));
    return r.data as Record<string, unknown>;
  }
  const problems = argsProblems(args, { ...builtIn.required, ...model.required }, { ...builtIn.optional, ...model.optional });
  if (problems.length > 0) throw new errors.SY_ERR_VALIDATION(subject, describeProblems(problems));
  return args as Record<string, unknown>;
}

export type ArgsChecker = (args: unknown) => Record<string, unknown>;

/**
 * A checker for one model, made once at start: the merged specs are built here rather than
 * on every message.
 */
export function argsChecker(
  model: { schema?: unknown; required?: Readonly<Record<string, unknown>>; optional?: Readonly<Record<string, unknown>> },
  subject: string,
  builtIn: { required?: Record<string, unknown>; optional?: Record<string, unknown> } = {},
): ArgsChecker {
  if ((model.schema as { safeParse?: unknown } | undefined)?.safeParse) return (args) => checkArgs(args, model, subject, builtIn);
  const problemsOf = compileArgsCheck({ ...builtIn.required, ...model.required }, { ...builtIn.optional, ...model.optional });
  return (args) => {
    const problems = problemsOf(args);
    if (problems.length > 0) throw new errors.SY_ERR_VALIDATION(subject, describeProblems(problems));
    return args as Record<string, unknown>;
  };
}

export type WireMarker = (args: Record<string, unknown>) => Record<string, unknown>;

/**
 * What args of this model need on their way onto the wire: whole numbers declared `float`
 * wrapped so they are packed as float64 (compileFloatMarker). A zod model declares no
 * Python types, so its args go as they are.
 */
export function wireMarker(model: { schema?: unknown; required?: Readonly<Record<string, unknown>>; optional?: Readonly<Record<string, unknown>> }): WireMarker {
  if ((model.schema as { safeParse?: unknown } | undefined)?.safeParse) return (args) => args;
  return compileFloatMarker(model.required, model.optional);
}

export function argsModelOf(m: ArgsModel) {
  return { schema: m.arguments, required: m.requiredArguments, optional: m.optionalArguments };
}

export function returnModelOf(m: ReturnModel) {
  return { schema: m.returnArguments, required: m.requiredReturnArguments, optional: m.optionalReturnArguments };
}
