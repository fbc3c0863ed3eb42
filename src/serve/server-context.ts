import type { FastifyRequest } from 'fastify';
import type { ServerMetrics } from './metrics.ts';
import type { ServeOptions } from './options.ts';
import type { ServedModel } from './served-model.ts';

/** What the routes share: the models by name, the options, the metrics; one per server. */
export interface ServerContext {
  readonly models: ReadonlyMap<string, ServedModel>;
  readonly options: ServeOptions;
  readonly metrics: ServerMetrics;
  readonly version: string;
  /** How many images a request carried, for its log line (set by the route that served it). */
  tag(request: FastifyRequest, images: number): void;
  /** The served model a URL names, or a 404 that lists them. */
  model(name: string): ServedModel;
}
