// The shape of what the dashboard serves (GET /api/snapshot, and every "snapshot" on the
// live stream): the topology with live figures. The page reads exactly this; keep it plain
// data (JSON), no classes.

import type { ComponentState, ModelKind } from '../observer.js';
import type { ChannelFigures } from './probe.js';
import type { TopologyEdge, TopologyNode } from './topology.js';

export interface Figures {
  /** Units of work arriving per second (the last ~10 s). */
  readonly rateIn: number;
  /** Messages sent or results produced per second. */
  readonly rateOut: number;
  readonly inFlight: number;
  /** Handling time (or call time, for outputs) over the last minute, ms. */
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  /** Since the dashboard started. */
  readonly received: number;
  readonly sent: number;
  readonly errors: number;
  readonly deadLetters: number;
  readonly rejected: number;
}

export interface Series {
  readonly in: readonly number[];
  readonly out: readonly number[];
  readonly errors: readonly number[];
  readonly deadLetters: readonly number[];
}

export interface NodeSnapshot extends TopologyNode {
  readonly state?: ComponentState;
  readonly error?: string;
  readonly figures?: Figures;
  readonly series?: Series;
  /** Channel nodes: what the transports said about the channel. */
  readonly probe?: ChannelFigures;
}

export interface EdgeSnapshot extends TopologyEdge {
  readonly figures: Figures;
  readonly series: Series;
  readonly probe?: ChannelFigures;
}

export interface Snapshot {
  readonly at: number;
  /** Changes whenever nodes or edges come or go: the page lays the graph out again only then. */
  readonly topologyVersion: number;
  /** Width of one sparkline point, ms; series have `seriesLength` points, oldest first. */
  readonly seriesBucketMs: number;
  readonly seriesLength: number;
  readonly nodes: readonly NodeSnapshot[];
  readonly edges: readonly EdgeSnapshot[];
  /** Counts of the whole system. */
  readonly totals: Figures;
  /** Ports (node × channel) not tracked because the cap was reached. */
  readonly untracked: number;
  readonly models: readonly ModelKind[];
}

/** One dead letter as the dashboard serves it (GET /api/dead-letters/{transport}/{queue}). */
export interface DeadLetterView {
  readonly id: string;
  readonly queue: string;
  readonly source: string;
  readonly reason: string;
  readonly attempts?: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly bytes: number;
  /** The body's start as text, or as hex when it is not printable UTF-8. */
  readonly preview: string;
  readonly previewEncoding: 'text' | 'hex';
  readonly truncated: boolean;
}
