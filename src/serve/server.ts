import { basename, dirname, resolve } from 'node:path';
import { timingSafeEqual } from 'node:crypto';
import os from 'node:os';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import cors from '@fastify/cors';
import { invalidParameter, invalidType } from '../errors/index.ts';
import { loadedModel, type LoadedModel } from '../jobs/load-model.ts';
import { graftPackage } from '../jobs/version.ts';
import { parseModelSpec, type ModelSpec } from '../models/model-spec.ts';
import { Runtime } from '../runtime/runtime.ts';
import { HttpError } from './http-error.ts';
import { ServerMetrics, NO_MODEL } from './metrics.ts';
import { resolveServeOptions, type ServeOptions } from './options.ts';
import { ServedModel } from './served-model.ts';
import { torchServeRoutes } from './torchserve-routes.ts';
import { v2Routes } from './v2-routes.ts';
import type { ServerContext } from './server-context.ts';

/** A model to serve: a spec (a model folder, a zoo name, onnx:/tfjs:) or a model already loaded, under a name. */
export interface ModelToServe {
  /** The name clients use in URLs; the folder's name or the spec by default. */
  name?: string;
  model: string | ModelSpec | LoadedModel;
  /** Zoo models: the weights variant or file ('DEFAULT': ImageNet weights). */
  weights?: string | null;
}

export interface Server {
  /** Where it listens, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  readonly port: number;
  /** The served models' names. */
  readonly models: readonly string[];
  /** Stops accepting requests, answers those already admitted, releases every thread. */
  close(): Promise<void>;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** Probes a load balancer or Kubernetes sends without credentials. */
const OPEN_PATHS = new Set(['/v2/health/live', '/v2/health/ready', '/ping']);

/**
 * Serves models over HTTP: the Open Inference Protocol (KServe v2 REST, as Triton, Seldon
 * MLServer and KServe speak it) and TorchServe's `POST /predictions/{name}`, with dynamic
 * batching, bounded queues and Prometheus metrics. ONNX Runtime and image decoding run on worker
 * threads, so the event loop only parses and answers. Resolves once it listens.
 */
export async function serve(models: readonly (string | ModelToServe)[], given: Partial<ServeOptions> = {}): Promise<Server> {
  const options = resolveServeOptions(given);
  if (!Array.isArray(models) || models.length === 0) throw invalidType('models', 'a non-empty array of models to serve', models);
  const cores = os.availableParallelism();
  const runtime = new Runtime({
    executor: 'workers',
    workers: options.workers,
    threads: cores,
    // Each worker runs one batch at a time; the batchers never hand it more than that per model.
    maxQueuedRuns: Math.max(64, models.length * options.workers * 2),
  });
  const served = new Map<string, ServedModel>();
  const metrics = new ServerMetrics(() => served.values());
  const closeAll = async () => {
    await Promise.all([...served.values()].map((m) => m.close()));
    await runtime.close();
  };
  try {
    for (const [i, entry] of models.entries()) {
      const { name, model, weights } = normalize(entry, i);
      if (served.has(name)) throw invalidParameter(`models[${i}].name`, 'a name no other served model has', name);
      const loaded = await loadedModel(model, { weights, runtime });
      served.set(name, await ServedModel.load(name, loaded, runtime, options, metrics));
    }
  } catch (error) {
    await closeAll();
    throw error;
  }
  const tags = new WeakMap<FastifyRequest, number>();
  const context: ServerContext = {
    models: served, options, metrics, version: graftPackage.version,
    tag: (request, images) => tags.set(request, images),
    model(name) {
      const m = served.get(name);
      if (!m) throw new HttpError(404, `no model named ${JSON.stringify(name).slice(0, 140)} is served here; served: ${[...served.keys()].join(', ')}`);
      return m;
    },
  };
  const lifecycle = { closing: false };
  const app = buildApp(context, tags, lifecycle);
  try {
    await app.listen({ host: options.host, port: options.port });
  } catch (error) {
    await closeAll();
    throw new Error(`Cannot listen on ${options.host}:${options.port}: ${(error as Error).message}`);
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${host}:${port}`,
    port,
    models: [...served.keys()],
    close: () => {
      lifecycle.closing = true;
      return (closing ??= app.close().then(closeAll));
    },
  };
}

function normalize(entry: string | ModelToServe, i: number): { name: string; model: ModelToServe['model']; weights: string | null | undefined } {
  const e: ModelToServe = typeof entry === 'string' ? { model: entry } : entry;
  if (typeof e !== 'object' || e === null || e.model === undefined) throw invalidType(`models[${i}]`, 'a model spec or { name, model }', entry);
  const spec = typeof e.model === 'string' ? parseModelSpec(e.model) : 'model' in e.model ? e.model.spec : e.model;
  const name = e.name ?? defaultName(spec);
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw invalidParameter(`models[${i}].name`, 'a name of letters, digits, ".", "_" and "-" (it goes into URLs)', name);
  }
  return { name, model: e.model, weights: e.weights };
}

/** A folder's name, a zoo architecture, an imported file's name without its extension. */
function defaultName(spec: ModelSpec): string {
  switch (spec.kind) {
    case 'folder': return basename(resolve(spec.dir));
    case 'zoo': return spec.arch;
    case 'onnx': return basename(spec.file).replace(/\.onnx$/i, '');
    case 'tfjs': return basename(dirname(resolve(spec.modelJson)));
    case 'hub': return spec.repo.split('/')[1];
  }
}

function buildApp(context: ServerContext, tags: WeakMap<FastifyRequest, number>, lifecycle: { closing: boolean }): FastifyInstance {
  const { options, metrics } = context;
  const app = Fastify({
    bodyLimit: options.maxBodyBytes,
    logger: false,
    // Slow clients cannot hold a connection open forever.
    requestTimeout: options.timeoutMs * 2,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  if (options.cors !== null) app.register(cors, { origin: options.cors });
  // Bodies are read as bytes and parsed by the routes, which know what they hold (JSON, binary tensors, images).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.register(multipart, { limits: { fileSize: options.maxBodyBytes, files: 1, fields: 10, fieldSize: 1024, parts: 20, headerPairs: 100 } });

  if (options.token !== null) {
    const expected = Buffer.from(`Bearer ${options.token}`);
    app.addHook('onRequest', async (request, reply) => {
      // CORS preflights carry no credentials by design; they only ask what is allowed.
      if (OPEN_PATHS.has(request.url.split('?')[0]) || request.method === 'OPTIONS') return;
      const given = Buffer.from(request.headers.authorization ?? '');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        reply.header('www-authenticate', 'Bearer');
        throw new HttpError(401, 'this server requires "Authorization: Bearer <token>" (the token it was started with)');
      }
    });
  }

  // While closing, answers end their connection: a kept-alive one would hold close() until it times out.
  app.addHook('onSend', async (_request, reply) => {
    if (lifecycle.closing) reply.header('connection', 'close');
  });

  app.addHook('onResponse', async (request, reply) => {
    // Counted under the model the URL names when it is served (also when its body was refused), else under none.
    const named = (request.params as { name?: string } | undefined)?.name;
    const model = named !== undefined && context.models.has(named) ? named : NO_MODEL;
    const endpoint = request.routeOptions.url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    metrics.onResponse(model, endpoint, reply.statusCode, seconds);
    if (options.json) {
      options.log(JSON.stringify({
        time: new Date().toISOString(), method: request.method, url: request.url.slice(0, 300), status: reply.statusCode,
        model: model || null, images: tags.get(request) ?? 0, ms: Math.round(seconds * 1e4) / 10,
      }));
    }
  });

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    const status = error instanceof HttpError ? error.status : error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (error instanceof HttpError && error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
    if (status === 500) options.log(`graft serve: ${request.method} ${request.url.slice(0, 200)} failed: ${error.stack ?? error.message}`);
    return reply.code(status).send({ error: clientMessage(error, status, options) });
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send({
    error: `no endpoint ${request.method} ${request.url.split('?')[0].slice(0, 200)}; see GET /v2, /v2/models/{name}, POST /v2/models/{name}/infer, POST /predictions/{name}, GET /metrics`,
  }));

  app.get('/metrics', async (_request, reply) => reply.type(metrics.contentType).send(await metrics.text()));
  app.register(async (scope) => v2Routes(scope, context));
  app.register(async (scope) => torchServeRoutes(scope, context));
  return app;
}

/** What the client is told: the reason for 4xx, the limit for 413, never a stack. */
function clientMessage(error: Error & { code?: string }, status: number, options: ServeOptions): string {
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || error.code === 'FST_REQ_FILE_TOO_LARGE') {
    return `the request body is over the limit of ${options.maxBodyBytes} bytes`;
  }
  if (status === 500) return `internal error: ${error.message}`;
  return error.message;
}

