import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../graph/emit.ts';
import { DataType } from '../graph/onnx-schema.ts';
import { tensor } from '../graph/tensor.ts';
import { emitTrace, trace } from '../graph/trace.ts';
import * as F from '../graph/functional.ts';
import type { Module } from '../nn/module.ts';
import type { Executable } from '../runtime/session.ts';
import { currentRuntime } from '../runtime/runtime.ts';
import { writeFileAtomic } from '../formats/atomic-write.ts';
import { emitPreprocessing } from './export-preprocessing.ts';
import { exportMetadata, resolveSource, type ExportSource, type ExportedManifest } from './export-source.ts';

export interface ExportOnnxOptions {
  /**
   * Take uint8 RGB pixels, [N, H, W, 3] of any height and width, and do graft's eval transform
   * (resize, center crop, normalize) inside the graph. Default false: the input is the
   * normalized float32 [N, 3, crop, crop] batch.
   */
  withPreprocessing?: boolean;
  /** End in softmax: the output is `probabilities` instead of `logits`. */
  softmax?: boolean;
  /**
   * Run the exported graph at batch sizes 1 and 3 and compare with graft's own forward, so a
   * graph that baked the batch size in is refused rather than written (default true).
   */
  verify?: boolean;
  /** Write the model to this file (atomically) as well as returning it. */
  out?: string;
}

export const INPUT_NAME = 'input';
export const BATCH_DIM = 'N';
/** Relative to the largest output: float32 ops run in another order by another kernel agree to about 1e-6. */
const VERIFY_TOLERANCE = 1e-4;
/** Traced at a batch size no layer width is likely to equal, so the batch stays recognizable. */
const TRACE_BATCH = 2;

/**
 * The inference graph of a trained model as a standalone ONNX file: eval mode, every parameter
 * an initializer, operator set 17, any batch size (the first dimension of input and output is
 * the symbolic 'N'), class labels and preprocessing in the metadata.
 */
export async function exportOnnx(source: ExportSource, opts: ExportOnnxOptions = {}): Promise<Uint8Array> {
  const { model, manifest } = await resolveSource(source);
  const outputName = opts.softmax ? 'probabilities' : 'logits';
  const softmax = opts.softmax ?? false;
  const core = traceInference(model, manifest.preprocessing.cropSize, softmax);
  const plain = core.serialize(false, outputName, manifest);
  if (opts.verify ?? true) {
    const session = await currentRuntime().createExecutable(plain, 'the exported graph under verification');
    try {
      await verifyAnyBatch(session, model, manifest, softmax);
    } finally {
      await session.release();
    }
  }
  const bytes = opts.withPreprocessing ? core.serialize(true, outputName, manifest) : plain;
  if (opts.out) await writeFileAtomic(opts.out, [bytes]);
  return bytes;
}

export interface TracedInference {
  /** What one image's row of the output holds: [classes] for a classifier. */
  readonly outputShape: readonly number[];
  serialize(withPreprocessing: boolean, outputName: string, manifest: ExportedManifest): Uint8Array;
}

function inputShape(cropSize: number, batch: number): number[] {
  return [batch, 3, cropSize, cropSize];
}

/**
 * Traces forward (eval mode, every parameter baked) at one batch size; the graph it serializes
 * takes any batch size. Also what a server compiles once to answer requests (jobs/predictor.ts).
 */
export function traceInference(model: Module, cropSize: number, softmax: boolean): TracedInference {
  const x = tensor(new Float32Array(TRACE_BATCH * 3 * cropSize ** 2), inputShape(cropSize, TRACE_BATCH));
  // Traced while frozen: the trace decides then which state is baked.
  const tr = withEvalFrozen(model, () => {
    const logits = model.forward(x);
    return trace([softmax ? F.softmax(logits, 1) : logits]);
  });
  const y = tr.targets[0];
  if (tr.feeds.length !== 1 || tr.feeds[0] !== x) {
    throw new Error(`The traced forward reads ${tr.feeds.length - 1} values fed at run time besides the image batch; an exported graph can only read the image batch`);
  }
  return {
    outputShape: y.shape.slice(1),
    serialize(withPreprocessing, outputName, m) {
      const b = new GraphBuilder();
      b.symbolicBatch = true;
      b.standardOps = true;
      let input: string = INPUT_NAME;
      if (withPreprocessing) {
        b.addInput({ name: INPUT_NAME, dtype: 'float32', elemType: DataType.UINT8, shape: [BATCH_DIM, 'H', 'W', 3] });
        input = emitPreprocessing(b, INPUT_NAME, m.preprocessing);
      } else {
        b.addInput({ name: INPUT_NAME, dtype: 'float32', shape: [BATCH_DIM, ...x.shape.slice(1)] });
      }
      const [result] = emitTrace(b, tr, [input]);
      b.alias(result, outputName);
      b.addOutput({ name: outputName, dtype: 'float32', shape: [BATCH_DIM, ...y.shape.slice(1)] });
      return b.serialize({ name: m.model, metadata: exportMetadata(m, { withPreprocessing, outputName }), docString: docString(m, withPreprocessing, outputName) });
    },
  };
}

/** Runs `fn` with the model in eval mode and every parameter frozen (baked), then restores both. */
function withEvalFrozen<T>(model: Module, fn: () => T): T {
  const wasTraining = model.training;
  const params = [...model.parameters()];
  const requires = params.map((p) => p.requiresGrad);
  model.eval();
  for (const p of params) p.requiresGrad = false;
  try {
    return fn();
  } finally {
    params.forEach((p, i) => { p.requiresGrad = requires[i]; });
    model.train(wasTraining);
  }
}

function docString(m: ExportedManifest, withPreprocessing: boolean, outputName: string): string {
  const input = withPreprocessing
    ? `input: uint8 RGB pixels [N, H, W, 3], any size; resized, center-cropped to ${m.preprocessing.cropSize} and normalized inside the graph`
    : `input: float32 [N, 3, ${m.preprocessing.cropSize}, ${m.preprocessing.cropSize}], normalized as metadata "preprocessing" says`;
  return `${m.model} classifier for ${m.classes.length} classes exported by graft. ${input}. ${outputName}: float32 [N, ${m.classes.length}] in the order of metadata "labels".`;
}

/**
 * Runs the session of an exported graph (without preprocessing) at batch sizes other than the
 * traced one and compares its one output with graft's forward on the same seeded inputs.
 */
export async function verifyAnyBatch(session: Executable, model: Module, manifest: ExportedManifest, softmax: boolean): Promise<void> {
  for (const batch of [1, 3]) {
    const shape = inputShape(manifest.preprocessing.cropSize, batch);
    const data = seededInput(shape.reduce((a, b) => a * b, 1), batch);
    const exported = Object.values(await session.run({ [INPUT_NAME]: new ort.Tensor('float32', data, shape) }))[0].data as Float32Array;
    const own = await withEvalFrozen(model, () => {
      const logits = model.forward(tensor(data, shape));
      return softmax ? F.softmax(logits, 1) : logits;
    }).floats();
    const { maxDiff, scale } = compare(exported, own);
    if (!(maxDiff <= VERIFY_TOLERANCE * Math.max(1, scale))) {
      throw new Error(
        `The exported graph disagrees with graft's forward at batch size ${batch} (largest difference ${maxDiff.toExponential(2)}, ` +
          `outputs up to ${scale.toPrecision(3)}): some op of ${manifest.model} bakes the traced batch size into a shape`,
      );
    }
  }
}

function compare(a: Float32Array, b: Float32Array): { maxDiff: number; scale: number } {
  if (a.length !== b.length) return { maxDiff: Infinity, scale: 0 };
  let maxDiff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return { maxDiff, scale };
}

/** Values like a normalized image batch (about -2..2), the same on every run. */
function seededInput(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = (0x9e3779b9 * seed) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = (s / 2 ** 32) * 4 - 2;
  }
  return out;
}
