// The envelopes every frame carries (SPECS.md §2.1), with key order as Python builds them:
//   outbound (connections and states)   {"args": {...}, "workflow_id": <UUID | "uuid_N" | null>}
//   reply (replyer → requester)         {"return_args": {...}, "workflow_id": <same as request>}
// A reply to a request that failed here carries one more key, "error" (a Switchyard
// addition; a Python requester ignores it and sees empty return_args).
// Topics: a single frame, msgpack(topic) + msgpack(envelope), not multipart.

import { errors } from '../../../errors.js';
import { pack, unpack } from './codec.js';
import { Uuid } from './values.js';

export type WorkflowId = Uuid | string | null;

export interface Envelope {
  readonly args: Record<string, unknown>;
  readonly workflowId: WorkflowId;
}

export interface ReplyEnvelope {
  readonly returnArgs: Record<string, unknown>;
  readonly workflowId: WorkflowId;
  /** Set when the replyer could not answer: the reason, never a stack. */
  readonly error?: string;
}

export function encodeEnvelope(args: Record<string, unknown>, workflowId: WorkflowId, topicPrefix?: Uint8Array): Uint8Array {
  const body = pack({ args, workflow_id: workflowId });
  if (topicPrefix === undefined || topicPrefix.length === 0) return body;
  const frame = new Uint8Array(topicPrefix.length + body.length);
  frame.set(topicPrefix, 0);
  frame.set(body, topicPrefix.length);
  return frame;
}

export function encodeReply(returnArgs: unknown, workflowId: WorkflowId, error?: string): Uint8Array {
  return pack(error === undefined ? { return_args: returnArgs, workflow_id: workflowId } : { return_args: returnArgs, workflow_id: workflowId, error });
}

/** The bytes a subscriber with this topic filters on: msgpack of the topic string. */
export function topicPrefixOf(topic: string | undefined): Uint8Array {
  return topic === undefined || topic === '' ? new Uint8Array(0) : pack(topic);
}

/** Why a frame could not be read (SY_ERR_SERVICE_FRAME); the service reports it and goes on. */
function malformed(why: string): Error {
  return new errors.SY_ERR_SERVICE_FRAME(why);
}

function workflowIdOf(v: unknown): WorkflowId {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v;
  if (v instanceof Uuid) return v;
  return String(v);
}

/** Reads an outbound envelope, after dropping `skip` topic bytes. */
export function decodeEnvelope(frame: Uint8Array, skip = 0): Envelope {
  let payload: unknown;
  try {
    payload = unpack(skip > 0 ? frame.subarray(skip) : frame);
  } catch (err) {
    throw malformed(`frame of ${frame.length} bytes is not msgpack (${(err as Error).message})`);
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw malformed('frame is not a msgpack map with "args"');
  }
  const map = payload as Record<string, unknown>;
  const args = map.args;
  if (args === null || typeof args !== 'object' || Array.isArray(args) || args instanceof Uint8Array) {
    throw malformed(args === undefined ? 'frame has no "args" key' : '"args" of the frame is not a map');
  }
  return { args: args as Record<string, unknown>, workflowId: workflowIdOf(map.workflow_id) };
}

export function decodeReply(frame: Uint8Array): ReplyEnvelope {
  let payload: unknown;
  try {
    payload = unpack(frame);
  } catch (err) {
    throw malformed(`reply of ${frame.length} bytes is not msgpack (${(err as Error).message})`);
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) throw malformed('reply is not a msgpack map');
  const map = payload as Record<string, unknown>;
  // Python's requester: response["return_args"], or {} when the response is None.
  const ra = map.return_args;
  const returnArgs = ra !== null && typeof ra === 'object' && !Array.isArray(ra) ? (ra as Record<string, unknown>) : {};
  return {
    returnArgs,
    workflowId: workflowIdOf(map.workflow_id),
    ...(typeof map.error === 'string' ? { error: map.error } : {}),
  };
}
