import { copyFile, mkdir, readFile, realpath, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe } from '../errors/index.ts';
import { cannotRead, truncated } from './errors.ts';
import { halfToFloat } from './half-float.ts';
import { tempPathBeside } from './atomic-write.ts';
import { numel } from '../graph/tensor.ts';

/**
 * Reader for TF.js layers models (`model.json` + binary weight shards), as `model.save()` in
 * TF.js, the tensorflowjs converter for Keras files and Teachable Machine write them. It returns
 * the Keras topology as parsed JSON and every weight as float32, dequantized. Nothing is
 * allocated from what the manifest claims until the shard files on disk are known to hold it.
 */

/** The Keras model config: `{ class_name: 'Sequential' | 'Model' | 'Functional', config: ... }`. */
export interface KerasModelJson {
  class_name: string;
  config: unknown;
  [key: string]: unknown;
}

export interface TfjsWeight {
  shape: number[];
  data: Float32Array;
  /** How it was stored: 'float32', or the quantized type it was widened from. */
  storedAs: 'float32' | 'uint8' | 'uint16' | 'float16';
}

export interface TfjsLayersModelFile {
  /** The model.json path, for error messages. */
  file: string;
  topology: KerasModelJson;
  /** Weights by manifest name (`Conv1/kernel`), in manifest order. */
  weights: Map<string, TfjsWeight>;
  /** Teachable Machine's metadata.json beside model.json, when present. */
  metadata: TeachableMachineMetadata | null;
}

export interface TeachableMachineMetadata {
  labels: string[];
  imageSize: number | null;
  modelName: string | null;
  tmVersion: string | null;
}

/** Bytes per stored value. */
const STORED_SIZE = { float32: 4, uint8: 1, uint16: 2, float16: 2 } as const;
type StoredDType = keyof typeof STORED_SIZE;

interface WeightPlan {
  name: string;
  shape: number[];
  storedAs: StoredDType;
  scale: number;
  min: number;
  byteLength: number;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads a TF.js layers model. Errors are WeightsFileErrors naming the file and, for weights, the
 * weight: a manifest that does not parse, a shard that is missing, shorter or longer than the
 * manifest says, an unknown dtype or quantization.
 */
export async function readTfjsLayersModel(modelJson: string): Promise<TfjsLayersModelFile> {
  const file = modelJson;
  const json = await readModelJson(file);
  const topology = topologyOf(file, json.modelTopology);
  const plans = planWeights(file, json.weightsManifest);
  const weights = new Map<string, TfjsWeight>();
  const dir = path.dirname(file);
  for (const group of plans) {
    const bytes = await readShards(file, dir, group.paths, group.weights);
    let offset = 0;
    for (const w of group.weights) {
      weights.set(w.name, { shape: w.shape, data: decode(bytes, offset, w), storedAs: w.storedAs });
      offset += w.byteLength;
    }
  }
  return { file, topology, weights, metadata: await readMetadata(file, dir) };
}

/**
 * How deeply objects and lists may nest in model.json or metadata.json. A Keras model config
 * nests about 15 levels (a Teachable Machine export's model in a model in a model); the layer
 * builder and error messages recurse through the config, so a file nested thousands deep would
 * overflow the stack instead of being refused.
 */
export const MAX_JSON_DEPTH = 100;

/** Whether `value` nests deeper than `limit` levels, checked without recursion. */
function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > limit) return true;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

/** A JSON file's value: parsed, and refused when it nests deeper than any model config does. */
async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw cannotRead(file, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String((e as Error).message));
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw cannotRead(file, `not valid JSON (${(e as Error).message})`);
  }
  if (nestsDeeperThan(json, MAX_JSON_DEPTH)) {
    throw cannotRead(file, `objects and lists nest more than ${MAX_JSON_DEPTH} levels deep; a TF.js model config needs far fewer`);
  }
  return json;
}

/** model.json as a layers-model manifest: still unchecked beyond its outer shape. */
async function readModelJson(file: string): Promise<Record<string, unknown>> {
  const json = await readJson(file);
  if (!isRecord(json)) throw cannotRead(file, `expected a JSON object with modelTopology and weightsManifest but found ${describe(json)}`);
  if (json.format !== undefined && json.format !== 'layers-model') {
    throw cannotRead(file, `format is ${describe(json.format)}; graft imports TF.js layers models ("layers-model"), not graph models`);
  }
  return json;
}

function topologyOf(file: string, topology: unknown): KerasModelJson {
  if (!isRecord(topology)) throw cannotRead(file, `modelTopology is ${describe(topology)}, expected the Keras model config`);
  // The Keras converter wraps the model in { model_config, training_config, keras_version }.
  const model = isRecord(topology.model_config) ? topology.model_config : topology;
  if (typeof model.class_name !== 'string' || !isRecord(model.config) && !Array.isArray(model.config)) {
    throw cannotRead(file, 'modelTopology has no Keras model (expected class_name and config)');
  }
  return model as KerasModelJson;
}

function planWeights(file: string, manifest: unknown): { paths: string[]; weights: WeightPlan[] }[] {
  if (!Array.isArray(manifest)) throw cannotRead(file, `weightsManifest is ${describe(manifest)}, expected a list of weight groups`);
  const seen = new Set<string>();
  return manifest.map((group, g) => {
    if (!isRecord(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      throw cannotRead(file, `weightsManifest[${g}] needs "paths" and "weights" lists`);
    }
    const paths = group.paths.map((p, i) => {
      if (typeof p !== 'string' || p === '') throw cannotRead(file, `weightsManifest[${g}].paths[${i}] is ${describe(p)}, expected a file name`);
      return p;
    });
    const weights = group.weights.map((spec, i) => {
      const plan = planWeight(file, spec, `weightsManifest[${g}].weights[${i}]`);
      if (seen.has(plan.name)) throw cannotRead(file, `weight "${plan.name}" is listed twice in weightsManifest`);
      seen.add(plan.name);
      return plan;
    });
    return { paths, weights };
  });
}

function planWeight(file: string, spec: unknown, where: string): WeightPlan {
  if (!isRecord(spec) || typeof spec.name !== 'string') throw cannotRead(file, `${where} has no name`);
  const name = spec.name;
  const shape = spec.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw cannotRead(file, `weight "${name}" has shape ${JSON.stringify(shape)}, expected a list of integers >= 0`);
  }
  if (spec.dtype !== 'float32') {
    throw cannotRead(file, `weight "${name}" has dtype ${describe(spec.dtype)}; layers models store float32 weights (optionally quantized)`);
  }
  const count = numel(shape);
  let storedAs: StoredDType = 'float32';
  let scale = 1;
  let min = 0;
  const q = spec.quantization;
  if (q !== undefined && q !== null) {
    if (!isRecord(q)) throw cannotRead(file, `weight "${name}" has quantization ${describe(q)}, expected an object`);
    if (q.dtype === 'uint8' || q.dtype === 'uint16') {
      if (typeof q.scale !== 'number' || typeof q.min !== 'number' || !Number.isFinite(q.scale) || !Number.isFinite(q.min)) {
        throw cannotRead(file, `weight "${name}" is quantized to ${q.dtype} but its scale and min are not both finite numbers`);
      }
      ({ scale, min } = q as { scale: number; min: number });
    } else if (q.dtype !== 'float16') {
      throw cannotRead(file, `weight "${name}" has quantization dtype ${describe(q.dtype)}; expected uint8, uint16 or float16`);
    }
    storedAs = q.dtype;
  }
  const byteLength = count * STORED_SIZE[storedAs];
  if (!Number.isSafeInteger(byteLength)) throw cannotRead(file, `weight "${name}" of shape [${shape}] is too large`);
  return { name, shape: shape as number[], storedAs, scale, min, byteLength };
}

const isOutside = (rel: string) => rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel);

/**
 * A file the model names (`name`, relative to model.json's folder `dir`): its real path and size,
 * or null when there is no regular file there. Shards sit beside model.json; neither the name nor
 * a symbolic link on the way may lead graft to read (or copy) a file elsewhere.
 */
async function fileInFolder(file: string, dir: string, name: string, what: string): Promise<{ path: string; size: number } | null> {
  const target = path.resolve(dir, name);
  if (path.isAbsolute(name) || isOutside(path.relative(dir, target))) throw cannotRead(file, `${what} "${name}" is outside the model's folder`);
  let real: string;
  let size: number;
  try {
    real = await realpath(target);
    const s = await stat(real);
    if (!s.isFile()) return null;
    size = s.size;
  } catch {
    return null;
  }
  if (isOutside(path.relative(await realpath(dir), real))) {
    throw cannotRead(file, `${what} "${name}" is a link to ${real}, outside the model's folder`);
  }
  return { path: real, size };
}

/** Checks the shards' sizes against the manifest, then reads them as one buffer. */
async function readShards(file: string, dir: string, paths: string[], weights: WeightPlan[]): Promise<Uint8Array> {
  const shards: { path: string; size: number }[] = [];
  for (const p of paths) {
    const shard = await fileInFolder(file, dir, p, 'weights file');
    if (shard === null) throw cannotRead(file, `weights file "${p}" named in weightsManifest is missing (looked for ${path.resolve(dir, p)})`);
    shards.push(shard);
  }
  const available = shards.reduce((n, s) => n + s.size, 0);
  const label = shards.map((s) => s.path).join(' + ');
  let need = 0;
  for (const w of weights) {
    if (need + w.byteLength > available) {
      throw truncated(label, `weight "${w.name}" (${w.storedAs} [${w.shape}])`, w.byteLength, need, available);
    }
    need += w.byteLength;
  }
  if (need !== available) {
    throw cannotRead(label, `holds ${available} bytes but the manifest in ${path.basename(file)} describes ${need}; the weights do not belong to this model.json`);
  }
  const bytes = new Uint8Array(available);
  let at = 0;
  for (const s of shards) {
    const part = await readFile(s.path);
    // The file may have changed since stat: never write past the buffer checked above.
    if (part.length !== s.size) throw cannotRead(s.path, `changed while being read (${s.size} bytes, then ${part.length})`);
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}

/** Values are little-endian, as TF.js writes them on every platform it runs on. */
function decode(bytes: Uint8Array, offset: number, w: WeightPlan): Float32Array {
  const count = w.byteLength / STORED_SIZE[w.storedAs];
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, w.byteLength);
  const out = new Float32Array(count);
  switch (w.storedAs) {
    case 'float32':
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
      break;
    case 'uint8':
      for (let i = 0; i < count; i++) out[i] = view.getUint8(i) * w.scale + w.min;
      break;
    case 'uint16':
      for (let i = 0; i < count; i++) out[i] = view.getUint16(2 * i, true) * w.scale + w.min;
      break;
    case 'float16':
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
      break;
  }
  return out;
}

const METADATA_FILE = 'metadata.json';

/** Teachable Machine's metadata.json: the class labels in output order, and the image size. */
async function readMetadata(modelJson: string, dir: string): Promise<TeachableMachineMetadata | null> {
  const found = await fileInFolder(modelJson, dir, METADATA_FILE, 'metadata file');
  if (found === null) return null;
  const file = path.join(dir, METADATA_FILE);
  const json = await readJson(file);
  if (!isRecord(json)) throw cannotRead(file, `expected a JSON object but found ${describe(json)}`);
  const labels = json.labels ?? [];
  if (!Array.isArray(labels) || !labels.every((l) => typeof l === 'string')) {
    throw cannotRead(file, `labels is ${describe(labels)}, expected a list of strings`);
  }
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    labels: labels as string[],
    imageSize: Number.isSafeInteger(json.imageSize) && (json.imageSize as number) > 0 ? json.imageSize as number : null,
    modelName: str(json.modelName),
    tmVersion: str(json.tmVersion),
  };
}

/**
 * The files that make up a TF.js model, as names relative to model.json's folder: model.json, the
 * weight files its manifest lists and metadata.json when there is one. Nothing else in the folder
 * belongs to the model (an export often sits among photos and other downloads).
 */
export async function tfjsModelFiles(modelJson: string): Promise<string[]> {
  const json = await readModelJson(modelJson);
  const dir = path.dirname(modelJson);
  const names = [path.basename(modelJson)];
  for (const group of planWeights(modelJson, json.weightsManifest)) {
    for (const p of group.paths) {
      if ((await fileInFolder(modelJson, dir, p, 'weights file')) === null) {
        throw cannotRead(modelJson, `weights file "${p}" named in weightsManifest is missing (looked for ${path.resolve(dir, p)})`);
      }
      names.push(path.normalize(p));
    }
  }
  if ((await fileInFolder(modelJson, dir, METADATA_FILE, 'metadata file')) !== null) names.push(METADATA_FILE);
  return [...new Set(names)];
}

/**
 * Puts a copy of a TF.js model's own files (tfjsModelFiles) in `targetDir`, under their relative
 * names, and returns the copy's model.json path. The copy is made beside `targetDir` and renamed
 * over it, so `targetDir` holds one whole model and nothing left from an earlier one. A model
 * already in `targetDir` stays as it is. Links are copied as the files they point to.
 */
export async function copyTfjsModel(modelJson: string, targetDir: string): Promise<string> {
  const dir = path.dirname(modelJson);
  const copy = path.join(targetDir, path.basename(modelJson));
  if (await sameFolder(dir, targetDir)) return copy;
  const files = await tfjsModelFiles(modelJson);
  const temp = tempPathBeside(targetDir);
  try {
    for (const name of files) {
      const to = path.join(temp, name);
      await mkdir(path.dirname(to), { recursive: true });
      await copyFile(await realpath(path.join(dir, name)), to);
    }
    await rm(targetDir, { recursive: true, force: true });
    await rename(temp, targetDir);
  } catch (e) {
    await rm(temp, { recursive: true, force: true });
    throw e;
  }
  return copy;
}

async function sameFolder(a: string, b: string): Promise<boolean> {
  try {
    return (await realpath(a)) === (await realpath(b));
  } catch {
    return false;
  }
}
