import Fastify, { type FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import { Runtime } from '../runtime/runtime.ts';
import { dataRoutes, uploadLimitError } from './data-routes.ts';
import { EventHub } from './event-hub.ts';
import type { RunInfo } from './api.ts';
import { HttpError } from './http-error.ts';
import { resolveUiOptions, type UiOptions } from './options.ts';
import { Project } from './project.ts';
import { RunModels } from './run-models.ts';
import { runRoutes } from './run-routes.ts';
import { Runs } from './runs.ts';
import { forgetInspection } from './inspect.ts';
import { staticRoutes } from './static-files.ts';
import { newToken, requireToken } from './token.ts';

export interface UiServer {
  /** The URL to open, token included: http://127.0.0.1:PORT/?token=... */
  readonly url: string;
  /** Where it listens, without the token. */
  readonly origin: string;
  readonly port: number;
  readonly token: string;
  /** The project folder (absolute). */
  readonly project: string;
  /** Stops a run in progress, closes the event streams, model servers and worker threads. */
  close(): Promise<void>;
}

/**
 * `graft ui`'s server: the web app's API (api.ts) over one project folder, a thin shell over the
 * jobs. ONNX Runtime runs on worker threads, so the event loop keeps answering while a model
 * trains. Resolves once it listens.
 */
export async function startUi(given: Partial<UiOptions> = {}): Promise<UiServer> {
  const options = resolveUiOptions(given);
  const token = options.token ?? newToken();
  const hub = new EventHub({ maxBacklogBytes: 1 << 20, heartbeatMs: 15_000 });
  // The project calls back only after it is made (its header check runs in the background).
  const project: Project = new Project(options.project, { maxPixels: options.maxPixels }, () => hub.publish({ type: 'project', project: project.info() }));
  const runtime = new Runtime({ executor: 'workers' });
  const runs = new Runs(project, runtime, hub, options.log);
  const models = new RunModels(project.folder.cache('exports'), runtime, options.serveModel);
  runs.onFolderChange = async (id) => {
    await models.forget(id);
    await forgetInspection(runs.logDir, id);
  };
  await runs.load();
  const app = buildApp(options, token, project, hub, () => runs.list().filter((r) => r.status === 'running'));
  app.register(async (scope) => runRoutes(scope, project, runs, models, runtime));
  const closeAll = async () => {
    await runs.close();
    await models.close();
    project.close();
    hub.close();
    await runtime.close();
  };
  try {
    await app.listen({ host: options.host, port: options.port });
  } catch (error) {
    await closeAll();
    throw new Error(`Cannot listen on ${options.host}:${options.port}: ${(error as Error).message}`);
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const origin = `http://${host}:${port}`;
  let closing: Promise<void> | null = null;
  return {
    url: `${origin}/?token=${token}`, origin, port, token, project: project.folder.root,
    close: () => (closing ??= (async () => {
      hub.close();
      await app.close();
      await closeAll();
    })()),
  };
}

function buildApp(options: UiOptions, token: string, project: Project, hub: EventHub, running: () => RunInfo[]): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: options.maxFileBytes, forceCloseConnections: true });
  const limits = { maxFileBytes: options.maxFileBytes, maxFiles: options.maxFiles };
  // preservePath: the file names as sent, so a folder upload's relative path and a hostile `../` name are seen (and judged) here.
  app.register(multipart, { preservePath: true, throwFileSizeLimit: false, limits: { fileSize: options.maxFileBytes, files: options.maxFiles, fields: 20, fieldSize: 4096, parts: options.maxFiles + 20, headerPairs: 100 } });
  // A test image may come as the raw body.
  app.addContentTypeParser(/^(application\/octet-stream|image\/.*)$/, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  requireToken(app, token);

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    const known = error instanceof HttpError ? error : uploadLimitError(error, limits);
    const status = known ? known.status : error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) options.log(`graft ui: ${request.method} ${request.url.split('?')[0].slice(0, 200)} failed: ${error.stack ?? error.message}`);
    const message = status === 500 ? `internal error: ${error.message}` : (known ?? error).message;
    return reply.code(status).send({ error: message, statusCode: status, ...(known?.body ?? {}) });
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: `no endpoint ${request.method} ${request.url.split('?')[0].slice(0, 200)}`, statusCode: 404 }));

  staticRoutes(app, options.assetsDir);
  dataRoutes(app, project, limits);
  app.get('/api/events', (request, reply) => {
    reply.hijack();
    hub.attach(reply.raw, [{ type: 'project', project: project.info() }, ...running().map((run) => ({ type: 'run' as const, run }))]);
  });
  return app;
}
