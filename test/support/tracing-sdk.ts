// An OpenTelemetry SDK as a user registers one, for tests: a tracer provider whose spans go
// to an in-memory exporter (or, in a child process, as JSON lines to a file the test reads),
// and the async-hooks context manager so that a span made current follows the awaits.
// Registered once per process (the API's globals can be set once).

import { appendFileSync } from 'node:fs';
import { context, trace, type SpanContext } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';

/** What a test compares of a span. */
export interface SpanRecord {
  readonly name: string;
  readonly kind: number;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
}

export function recordOf(span: ReadableSpan): SpanRecord {
  const sc: SpanContext = span.spanContext();
  const parent = span.parentSpanContext?.spanId;
  return { name: span.name, kind: span.kind, traceId: sc.traceId, spanId: sc.spanId, ...(parent ? { parentSpanId: parent } : {}) };
}

/** Writes each finished span as one JSON line (for child processes; appendFileSync keeps lines whole). */
class FileExporter implements SpanExporter {
  constructor(private readonly path: string) {}
  export(spans: ReadableSpan[], done: (result: { code: number }) => void): void {
    for (const s of spans) appendFileSync(this.path, `${JSON.stringify(recordOf(s))}\n`);
    done({ code: 0 });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

export interface TestSdk {
  readonly exporter: InMemorySpanExporter;
  spans(): SpanRecord[];
  shutdown(): Promise<void>;
}

/** Registers the SDK; spans go to memory, and also to `file` when given. */
export function registerTestSdk(file?: string): TestSdk {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter), ...(file ? [new SimpleSpanProcessor(new FileExporter(file))] : [])],
  });
  if (!trace.setGlobalTracerProvider(provider)) throw new Error('a tracer provider was registered already in this process');
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  return {
    exporter,
    spans: () => exporter.getFinishedSpans().map(recordOf),
    shutdown: async () => {
      await provider.shutdown();
      trace.disable();
      context.disable();
    },
  };
}
