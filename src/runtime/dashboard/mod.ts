// switchyardjs/dashboard: the dashboard server, its live model, and the dead-letter tools of
// the memory transport. RabbitMQ's and Redis's are at switchyardjs/dashboard/amqp and
// switchyardjs/dashboard/redis, so a memory-only user loads no broker client.

export { startDashboard } from './start-dashboard.js';
export type { Dashboard, DashboardOptions } from './start-dashboard.js';
export { SystemModel } from '../../observability/dashboard/system-model.js';
export type { SystemModelOptions } from '../../observability/dashboard/system-model.js';
export type { Snapshot, NodeSnapshot, EdgeSnapshot, Figures, Series, DeadLetterView } from '../../observability/dashboard/snapshot.js';
export type { Probe, ProbeChannel, ChannelFigures } from '../../observability/dashboard/probe.js';
export { buildTopology } from '../../observability/dashboard/topology.js';
export type { Topology, TopologyNode, TopologyEdge, ComponentPorts, Port } from '../../observability/dashboard/topology.js';
export { renderMermaid, renderDot, renderSvg } from '../../observability/dashboard/render.js';
export type { DeadLetters, DeadLetter, DeadLetterQueue, PeekOptions } from '../../transports/dead-letters.js';
export type { QueueLook, QueueInfo } from '../../transports/queue-look.js';
export { MemoryDeadLetters } from '../../transports/memory/memory-dead-letters.js';
export { memoryProbe } from '../../transports/memory/memory-probe.js';
