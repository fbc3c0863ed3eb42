import * as ort from 'onnxruntime-node';
import { INPUT_NAME, traceInference, verifyAnyBatch } from '../artifacts/export-onnx.ts';
import { currentRuntime, type Runtime } from '../runtime/runtime.ts';
import type { Executable } from '../runtime/session.ts';
import type { LoadedModel } from './load-model.ts';

const OUTPUT_NAME = 'probabilities';

/**
 * A loaded model compiled once into one session that takes any batch size and answers class
 * probabilities: what a server runs for every batch, without tracing the model again per request.
 */
export interface Predictor {
  readonly loaded: LoadedModel;
  /** One preprocessed image: [3, crop, crop]. */
  readonly inputShape: readonly [number, number, number];
  /** Probabilities per image. */
  readonly classes: number;
  /** Labels by output index: the model's own, or the indices as text where it names none. */
  readonly labels: readonly string[];
  /** `n` images laid out one after another in `batch`; their probabilities, one row of `classes` each. */
  run(batch: Float32Array, n: number): Promise<Float32Array>;
  release(): Promise<void>;
}

/**
 * Compiles `loaded` for serving: its eval forward (and a softmax unless it already ends in one)
 * traced once, exported with a symbolic batch size, and checked at batch sizes 1 and 3 against
 * the traced forward, so a graph that baked the batch size in is refused at start rather than
 * answering wrongly.
 */
export async function createPredictor(loaded: LoadedModel, opts: { runtime?: Runtime } = {}): Promise<Predictor> {
  const runtime = opts.runtime ?? currentRuntime();
  return runtime.run(async () => {
    const crop = loaded.preprocessing.cropSize;
    const softmax = loaded.outputs === 'logits';
    const traced = traceInference(loaded.model, crop, softmax);
    if (traced.outputShape.length !== 1) {
      throw new RangeError(`${loaded.spec.spec} outputs [${traced.outputShape}] per image; serving answers class scores, one vector per image`);
    }
    const classes = traced.outputShape[0];
    const labels = loaded.labels && loaded.labels.length === classes ? loaded.labels : Array.from({ length: classes }, (_, i) => String(i));
    const manifest = { model: loaded.spec.spec, classes: [...labels], preprocessing: loaded.preprocessing };
    const session = await runtime.createExecutable(traced.serialize(false, OUTPUT_NAME, manifest), `${loaded.spec.spec} compiled for serving`);
    try {
      await verifyAnyBatch(session, loaded.model, manifest, softmax);
    } catch (error) {
      await session.release();
      throw error;
    }
    return predictorOver(session, loaded, [3, crop, crop], classes, labels);
  });
}

function predictorOver(session: Executable, loaded: LoadedModel, inputShape: [number, number, number], classes: number, labels: readonly string[]): Predictor {
  const per = inputShape[0] * inputShape[1] * inputShape[2];
  return {
    loaded, inputShape, classes, labels,
    async run(batch, n) {
      if (batch.length !== n * per) throw new RangeError(`A batch of ${n} images holds ${n * per} values, not ${batch.length}`);
      const out = await session.run({ [INPUT_NAME]: new ort.Tensor('float32', batch, [n, ...inputShape]) });
      return out[OUTPUT_NAME].data as Float32Array;
    },
    release: () => session.release(),
  };
}
