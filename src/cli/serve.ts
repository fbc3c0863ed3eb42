import { serve, type ModelToServe } from '../serve/index.ts';

export interface ServeFlags {
  host: string;
  port: number;
  weights: string;
  workers: number;
  decodeWorkers?: number;
  maxBatch: number;
  maxWaitMs: number;
  maxQueue: number;
  timeoutMs: number;
  maxBodyMb: number;
  maxPixels: number;
  topk: number;
  token?: string;
  cors?: string;
  json?: boolean;
}

/** `name=spec` names a model; a bare spec is served under its folder's (or architecture's) name. */
function modelArgument(arg: string, weights: string): ModelToServe {
  const eq = arg.indexOf('=');
  const named = eq > 0 && !arg.slice(0, eq).includes('/') && !arg.slice(0, eq).includes(':');
  return named ? { name: arg.slice(0, eq), model: arg.slice(eq + 1), weights } : { model: arg, weights };
}

/**
 * Runs the server until SIGTERM or SIGINT, then stops accepting, answers what was admitted and
 * exits 0; a second signal exits at once.
 */
export async function serveCommand(models: string[], flags: ServeFlags): Promise<void> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const server = await serve(models.map((m) => modelArgument(m, flags.weights)), {
    host: flags.host,
    port: flags.port,
    workers: flags.workers,
    decodeWorkers: flags.decodeWorkers,
    maxBatch: flags.maxBatch,
    maxWaitMs: flags.maxWaitMs,
    maxQueue: flags.maxQueue,
    timeoutMs: flags.timeoutMs,
    maxBodyBytes: Math.round(flags.maxBodyMb * 1024 * 1024),
    maxPixels: flags.maxPixels,
    topk: flags.topk,
    token: flags.token ?? process.env.GRAFT_TOKEN ?? null,
    cors: flags.cors ?? null,
    json: flags.json ?? false,
    log: (line) => process.stdout.write(`${line}\n`),
  });
  log(`graft serve: listening on ${server.url} (models: ${server.models.join(', ')}; POST /predictions/{name}, POST /v2/models/{name}/infer, GET /metrics)`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    log(`graft serve: ${signal}: finishing the requests in flight`);
    server.close().then(() => {
      log('graft serve: stopped');
      process.exit(0);
    }, (error: Error) => {
      log(`graft serve: ${error.message}`);
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
