import { fileURLToPath } from 'node:url';
import { checkInteger, checkString, invalidType } from '../errors/index.ts';

/** A model server started for a trained model folder, as `graft serve` would start it. */
export interface StartedModelServer { url: string; close(): Promise<void> }

export interface UiOptions {
  /** The project folder; a missing or empty one becomes a new project. */
  project: string;
  /** 127.0.0.1 unless told otherwise. */
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The token every request must carry; a random one by default. */
  token: string | null;
  /** Largest uploaded file, in bytes. */
  maxFileBytes: number;
  /** Files per upload request at most. */
  maxFiles: number;
  /** Largest image, in pixels, read from its header before decoding. */
  maxPixels: number;
  /** The built front end (index.html and its assets). */
  assetsDir: string;
  /**
   * Starts graft serve's server for a model folder on a free 127.0.0.1 port. The web app's server
   * does not depend on the model server's code (they are separate shells over the jobs), so the
   * one who starts both wires them: the CLI passes graft serve's. Null: serving is not offered.
   */
  serveModel: ((modelDir: string) => Promise<StartedModelServer>) | null;
  /** Where the server's own log lines go (run failures). */
  log: (line: string) => void;
}

const packageRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The bundled int8 MobileNetV2: a backbone that trains offline. */
export const BUNDLED_BACKBONE = `onnx:${fileURLToPath(new URL('../../assets/backbones/mobilenetv2-12-int8.onnx', import.meta.url))}`;

export function defaultUiOptions(): UiOptions {
  return {
    project: '.',
    host: '127.0.0.1',
    port: 0,
    token: null,
    maxFileBytes: 32 * 1024 * 1024,
    maxFiles: 1000,
    maxPixels: 40_000_000,
    assetsDir: `${packageRoot}assets/ui`,
    serveModel: null,
    log: (line) => process.stderr.write(`${line}\n`),
  };
}

/** Checks options given to `startUi` at the boundary; returns the full set. */
export function resolveUiOptions(given: Partial<UiOptions>): UiOptions {
  if (typeof given !== 'object' || given === null) throw invalidType('options', 'an object', given);
  const o = { ...defaultUiOptions(), ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) } as UiOptions;
  checkString('project', o.project, 'a project folder');
  checkString('host', o.host);
  checkInteger('port', o.port, { min: 0, max: 65535 });
  if (o.token !== null && (typeof o.token !== 'string' || o.token.length < 8)) throw invalidType('token', 'a string of at least 8 characters', o.token);
  checkInteger('maxFileBytes', o.maxFileBytes, { min: 1024 });
  checkInteger('maxFiles', o.maxFiles, { min: 1 });
  checkInteger('maxPixels', o.maxPixels, { min: 1 });
  checkString('assetsDir', o.assetsDir, 'a folder');
  if (o.serveModel !== null && typeof o.serveModel !== 'function') throw invalidType('serveModel', 'a function or null', o.serveModel);
  if (typeof o.log !== 'function') throw invalidType('log', 'a function', o.log);
  return o;
}
