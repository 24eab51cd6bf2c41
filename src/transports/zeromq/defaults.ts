// ZeroMQ transport defaults, apart from the sockets so that reading them does not load the
// native module (the CLI imports the sockets only when it uses them).

/** The largest frame a socket accepts by default: 16 MiB (the original has no limit). */
export const DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024;
