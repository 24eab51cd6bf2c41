// What a bus tells observers (the testing utilities, metrics): values are the validated
// parameters as the caller or handler sees them.

export interface BusObserver {
  rpcCalled?(api: string, procedure: string, params: unknown): void;
  rpcExecuting?(api: string, procedure: string, params: unknown): void;
  eventFired?(api: string, event: string, params: unknown): void;
  eventHandled?(api: string, event: string, params: unknown, listener: string): void;
}
