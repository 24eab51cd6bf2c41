// Workflow ids (SPECS.md §2.1): a handler's toSend carries the inbound message's id (or a new
// UUID when it had none); its first send uses the id as is, later ones "{id}_1", "{id}_2", ...
// Main mode, init and SIGINT handlers get a new UUID for every send.

import type { WorkflowId } from './wire/envelope.js';
import { Uuid } from './wire/values.js';

export function workflowIds(inbound: WorkflowId | undefined, increment: boolean): () => WorkflowId {
  if (!increment) return () => Uuid.random();
  const base = inbound ?? Uuid.random();
  let calls = 0;
  return () => (calls++ === 0 ? base : `${String(base)}_${calls - 1}`);
}
