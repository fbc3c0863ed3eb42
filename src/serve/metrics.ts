import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ModelObserver } from './served-model.ts';

/** Label for requests that named no served model: hostile names must not grow the label set. */
export const NO_MODEL = '';

/**
 * The server's Prometheus metrics, in a registry of its own (two servers in one process count
 * apart): requests by model, endpoint and status; latency, batch sizes and batch run time per
 * model; queue depth and images in flight per model, read when scraped.
 */
export class ServerMetrics implements ModelObserver {
  readonly registry = new Registry();
  private readonly requests: Counter<'model' | 'endpoint' | 'status'>;
  private readonly latency: Histogram<'model' | 'endpoint'>;
  private readonly batchSize: Histogram<'model'>;
  private readonly batchTime: Histogram<'model'>;

  constructor(models: () => Iterable<{ name: string; queueDepth: number; inFlight: number }>) {
    const registers = [this.registry];
    this.requests = new Counter({ name: 'graft_requests_total', help: 'Requests answered, by model, endpoint and HTTP status', labelNames: ['model', 'endpoint', 'status'], registers });
    this.latency = new Histogram({
      name: 'graft_request_duration_seconds', help: 'Time from request to response', labelNames: ['model', 'endpoint'], registers,
      buckets: [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30],
    });
    this.batchSize = new Histogram({ name: 'graft_batch_size', help: 'Images per forward pass', labelNames: ['model'], registers, buckets: [1, 2, 4, 8, 16, 32, 64, 128] });
    this.batchTime = new Histogram({
      name: 'graft_batch_duration_seconds', help: 'Time one batch spent in ONNX Runtime', labelNames: ['model'], registers,
      buckets: [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
    });
    new Gauge({
      name: 'graft_queue_depth', help: 'Images waiting for a batch', labelNames: ['model'], registers,
      collect() { for (const m of models()) this.set({ model: m.name }, m.queueDepth); },
    });
    new Gauge({
      name: 'graft_images_in_flight', help: 'Images admitted and not yet answered (decoding, queued or running)', labelNames: ['model'], registers,
      collect() { for (const m of models()) this.set({ model: m.name }, m.inFlight); },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'graft_process_' });
  }

  onBatch(model: string, size: number, ms: number): void {
    this.batchSize.observe({ model }, size);
    this.batchTime.observe({ model }, ms / 1000);
  }

  onResponse(model: string, endpoint: string, status: number, seconds: number): void {
    this.requests.inc({ model, endpoint, status: String(status) });
    this.latency.observe({ model, endpoint }, seconds);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
