import os from 'node:os';
import { checkBoolean, checkInteger, checkString, invalidType } from '../errors/index.ts';

export interface ServeOptions {
  /** Address to listen on; 127.0.0.1 unless told otherwise (another machine reaching it is a choice). */
  host: string;
  /** 0 picks a free port (the server's `url` says which). */
  port: number;
  /** Worker threads running ONNX Runtime sessions; batches of all models share them. */
  workers: number;
  /** Worker threads decoding and preprocessing images, per model. */
  decodeWorkers: number;
  /** Images gathered into one forward pass at most. */
  maxBatch: number;
  /** How long the first image of a batch may wait for others before the batch runs anyway. */
  maxWaitMs: number;
  /** Images per model admitted at once (decoding, queued or running); beyond it requests get 503. */
  maxQueue: number;
  /** A request still unanswered after this long gets 503 (it is dropped from the queue). */
  timeoutMs: number;
  /** Request bodies above this many bytes get 413 before they are read. */
  maxBodyBytes: number;
  /** Images above this many pixels get 413 before their pixels are decoded. */
  maxPixels: number;
  /** Classes answered per image by /predictions (TorchServe's top-k). */
  topk: number;
  /** When set, every endpoint but the health probes requires `Authorization: Bearer <token>`. */
  token: string | null;
  /** When set, browsers on this origin may call the server (CORS); off otherwise. */
  cors: string | null;
  /** One JSON line per request on `log` (else only start, stop and server errors). */
  json: boolean;
  /** Where log lines go. */
  log: (line: string) => void;
}

export function defaultServeOptions(): ServeOptions {
  const cores = os.availableParallelism();
  return {
    host: '127.0.0.1',
    port: 8080,
    workers: 1,
    decodeWorkers: Math.max(1, Math.min(2, cores)),
    maxBatch: 16,
    maxWaitMs: 5,
    maxQueue: 128,
    timeoutMs: 30_000,
    maxBodyBytes: 16 * 1024 * 1024,
    // A 7680 x 4320 photo; a server should not decode what PIL's bomb guard would still allow.
    maxPixels: 40_000_000,
    topk: 5,
    token: null,
    cors: null,
    json: false,
    log: (line) => process.stderr.write(`${line}\n`),
  };
}

/** Checks options given to `serve` at the boundary; returns the full set. */
export function resolveServeOptions(given: Partial<ServeOptions>): ServeOptions {
  if (typeof given !== 'object' || given === null) throw invalidType('options', 'an object', given);
  const o = { ...defaultServeOptions(), ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) };
  checkString('host', o.host);
  checkInteger('port', o.port, { min: 0, max: 65535 });
  checkInteger('workers', o.workers, { min: 1, max: 256 });
  checkInteger('decodeWorkers', o.decodeWorkers, { min: 1, max: 256 });
  checkInteger('maxBatch', o.maxBatch, { min: 1, max: 1024 });
  checkInteger('maxWaitMs', o.maxWaitMs, { min: 0, max: 60_000 });
  checkInteger('maxQueue', o.maxQueue, { min: 1, max: 1_000_000 });
  checkInteger('timeoutMs', o.timeoutMs, { min: 1, max: 3_600_000 });
  checkInteger('maxBodyBytes', o.maxBodyBytes, { min: 1024 });
  checkInteger('maxPixels', o.maxPixels, { min: 1 });
  checkInteger('topk', o.topk, { min: 1 });
  if (o.token !== null && (typeof o.token !== 'string' || o.token === '')) throw invalidType('token', 'a non-empty string', o.token);
  if (o.cors !== null) checkString('cors', o.cors, 'an origin such as https://example.com');
  checkBoolean('json', o.json);
  if (typeof o.log !== 'function') throw invalidType('log', 'a function', o.log);
  return o;
}
