export { pack, unpack, toWire, fromWire } from './codec.js';
export { Decimal, Float64, Uuid } from './values.js';
export { encodeEnvelope, encodeReply, decodeEnvelope, decodeReply, topicPrefixOf } from './envelope.js';
export type { Envelope, ReplyEnvelope, WorkflowId } from './envelope.js';
