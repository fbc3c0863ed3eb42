import type { Tensor } from '../graph/tensor.ts';
import { checkInteger, invalidType } from '../errors/index.ts';
import * as F from '../nn/functional.ts';
import { decodeImage, DecodeError, readImageFile, readImageSize } from '../data/decode.ts';
import { PixelBudget } from '../data/pixel-budget.ts';
import type { ImageTensor, RgbImage, Sample } from '../data/image.ts';
import type { Transform } from '../data/transforms/transform.ts';
import type { ModelSpec } from '../models/model-spec.ts';
import { currentRuntime, type Runtime } from '../runtime/runtime.ts';
import { throwIfAborted } from '../train/abort.ts';
import { loadedModel, type LoadedModel, type LoadModelOptions } from './load-model.ts';

/** An image to classify: a file path, the bytes of an encoded image (a Buffer), or a decoded image. */
export type PredictInput = string | Uint8Array | RgbImage;

export interface TopK { index: number; label: string; prob: number }

export interface Prediction {
  /** The input's position in the list given. */
  input: number;
  /** The path, for inputs given as one. */
  file?: string;
  /** The k most probable classes, most probable first; empty when the input failed. */
  top: TopK[];
  /** Why this input could not be classified (the others are not affected). */
  error?: string;
}

export type PredictEvent = { type: 'batch'; done: number; total: number };

/** 2^26 pixels, about 200 MB as RGB: a batch of photos decodes at once, a huge image alone. */
export const DEFAULT_MAX_DECODED_PIXELS = 1 << 26;

export interface PredictOptions extends Pick<LoadModelOptions, 'weights'> {
  /** Classes per input (default 5, at most the model's output count). */
  topk?: number;
  /** Inputs per forward pass (default 16). */
  batchSize?: number;
  /**
   * Pixels of full-resolution images held at once while a batch is decoded and preprocessed
   * (default DEFAULT_MAX_DECODED_PIXELS): images decode in parallel within it, and one larger
   * than it decodes alone, so memory follows this bound rather than batch size times image size.
   */
  maxDecodedPixels?: number;
  /** Checked before every batch: an aborted signal rejects with an AbortError. */
  signal?: AbortSignal;
  onEvent?: (e: PredictEvent) => void;
  /** Where the graphs run; the calling code's runtime by default. */
  runtime?: Runtime;
}

/** The k largest entries of one row, largest first. */
export function topK(row: Float32Array, k: number, labels: readonly string[]): TopK[] {
  const idx = Array.from(row.keys()).sort((a, b) => row[b] - row[a]).slice(0, k);
  return idx.map((i) => ({ index: i, label: labels[i] ?? String(i), prob: row[i] }));
}

const positiveInt = (name: string, v: number) => checkInteger(name, v, { min: 1 });

function checkInput(input: unknown, i: number): PredictInput {
  if (typeof input === 'string' || input instanceof Uint8Array) return input;
  if (typeof input === 'object' && input !== null && (input as RgbImage).kind === 'image') return input as RgbImage;
  throw invalidType(`inputs[${i}]`, 'a file path, the bytes of an encoded image or a decoded RgbImage', input);
}

/**
 * Decodes (when needed) and preprocesses one input; failures carry the input's name. An encoded
 * image's size is read from its header first, and its full-resolution pixels live only inside
 * the budget's reservation: the tensor that leaves is the model's input size.
 */
async function prepare(input: PredictInput, i: number, transform: Transform, budget: PixelBudget): Promise<ImageTensor> {
  if (typeof input === 'string' || input instanceof Uint8Array) {
    const name = typeof input === 'string' ? input : `inputs[${i}] (${input.length} bytes)`;
    try {
      const bytes = typeof input === 'string' ? await readImageFile(input) : input;
      const { width, height } = await readImageSize(bytes);
      return await budget.use(width * height, async () => tensorOf(transform.apply(await decodeImage(bytes))));
    } catch (e) {
      throw e instanceof DecodeError && e.file !== name ? new DecodeError(name, e.reason) : e;
    }
  }
  const expected = input.width * input.height * 3;
  if (!Number.isInteger(input.width) || !Number.isInteger(input.height) || input.width < 1 || input.height < 1
    || !(input.data instanceof Uint8Array) || input.data.length !== expected) {
    throw new RangeError(`inputs[${i}] is not a valid RgbImage: expected width x height x 3 bytes of data for ${input.width}x${input.height} but received ${input.data?.length ?? 'none'}`);
  }
  return tensorOf(transform.apply(input));
}

function tensorOf(out: Sample): ImageTensor {
  if (out.kind !== 'tensor') throw new TypeError('the predict transform must end with ToTensor (and Normalize)');
  return out;
}

/** Images per forward pass unless told otherwise (`predict`, `graft predict --batch`): the batch a prediction session is compiled for. */
export const PREDICT_BATCH_SIZE = 16;

/**
 * Classifies images with a loaded model (or a spec, loaded for this call). Inputs go through in
 * batches; one that cannot be read or decoded gets an `error` and no prediction, and the others
 * are unaffected. Every batch is padded to the same size so all of them share one compiled
 * session (padding rows are discarded; eval mode makes rows independent).
 */
export async function predict(model: LoadedModel | string | ModelSpec, inputs: readonly PredictInput[], opts: PredictOptions = {}): Promise<Prediction[]> {
  if (!Array.isArray(inputs)) throw invalidType('inputs', 'an array', inputs);
  const checked = inputs.map(checkInput);
  const topk = positiveInt('topk', opts.topk ?? 5);
  const batchSize = Math.min(positiveInt('batchSize', opts.batchSize ?? PREDICT_BATCH_SIZE), Math.max(1, checked.length));
  const budget = new PixelBudget(positiveInt('maxDecodedPixels', opts.maxDecodedPixels ?? DEFAULT_MAX_DECODED_PIXELS));
  const runtime = opts.runtime ?? currentRuntime();
  const loaded = await loadedModel(model, { weights: opts.weights, runtime });
  return runtime.run(async () => {
    loaded.model.eval();
    const labels = loaded.labels ?? [];
    const results: Prediction[] = [];
    const named = (i: number) => (typeof checked[i] === 'string' ? { input: i, file: checked[i] as string } : { input: i });
    for (let start = 0; start < checked.length; start += batchSize) {
      throwIfAborted(opts.signal, 'Prediction');
      const chunk = checked.slice(start, start + batchSize);
      const prepared = await Promise.all(chunk.map((input, k) => prepare(input, start + k, loaded.transform, budget).then((t) => ({ t }), (e: Error) => ({ e }))));
      const ok = prepared.flatMap((r, k) => ('t' in r ? [{ i: start + k, t: r.t }] : []));
      if (ok.length) {
        const { channels, height, width } = ok[0].t;
        const per = channels * height * width;
        const fill = (batch: Float32Array) => {
          ok.forEach(({ i, t }, k) => {
            if (t.data.length !== per) throw new RangeError(`inputs[${i}]: preprocessed to ${t.channels}x${t.height}x${t.width}, expected ${channels}x${height}x${width}`);
            batch.set(t.data, k * per);
          });
          batch.fill(0, ok.length * per);
        };
        // The batch goes to the session's thread in a buffer the runtime lends, without a copy.
        let out!: Tensor;
        const probs = await runtime.withFeed([batchSize, channels, height, width], fill, (batch) => {
          out = loaded.model.forward(batch);
          if (out.ndim !== 2) throw new RangeError(`${loaded.spec.spec} outputs [${out.shape}] per batch; predict reads class scores, [N, classes]`);
          return (loaded.outputs === 'probabilities' ? out : F.softmax(out, 1)).floats();
        });
        const classes = out.shape[1];
        const k = Math.min(topk, classes);
        for (const [row, { i }] of ok.entries()) results[i] = { ...named(i), top: topK(probs.subarray(row * classes, (row + 1) * classes), k, labels) };
      }
      prepared.forEach((r, k) => { if ('e' in r) results[start + k] = { ...named(start + k), top: [], error: r.e.message }; });
      opts.onEvent?.({ type: 'batch', done: Math.min(start + batchSize, checked.length), total: checked.length });
    }
    return results;
  });
}
