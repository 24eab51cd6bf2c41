// What a bus tells observers (the testing utilities, the state and metrics plugins): values
// are the validated parameters as the caller or handler sees them; ids are the messages'.

export interface BusObserver {
  /** A call was sent. */
  rpcCalled?(api: string, procedure: string, params: unknown, id: string): void;
  /** The result (or remote error) of a call arrived. */
  rpcResultReceived?(api: string, procedure: string, id: string): void;
  /** A call arrived here and its procedure starts. */
  rpcExecuting?(api: string, procedure: string, params: unknown, id: string): void;
  /** A procedure returned and its result is being sent back. */
  rpcResponding?(api: string, procedure: string, id: string, result: unknown): void;
  eventFired?(api: string, event: string, params: unknown, id: string): void;
  /** An event reached a listener and its handler starts. */
  eventReceived?(api: string, event: string, params: unknown, listener: string, id: string): void;
  /** A handler finished and the event was acknowledged. */
  eventHandled?(api: string, event: string, params: unknown, listener: string, id: string): void;
}
