import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { GraphBuilder, OPSET } from '../graph/emit.ts';
import { createHash } from 'node:crypto';
import type { InlineGraph } from '../graph/ops/onnx-subgraph.ts';
import { currentRuntime } from '../runtime/runtime.ts';
import { invalidParameter } from '../errors/index.ts';
import { onnxError, parseOnnxModel, type OnnxModel } from './onnx-model.ts';
import { cutModel, type OnnxCut } from './onnx-cut.ts';
import { convertNodes } from './onnx-opset.ts';
import { MAX_TENSOR_VALUES, checkGraphBounds } from './onnx-bounds.ts';

/**
 * Imports an ONNX model as a frozen backbone: read and check the file, cut it at a tensor, bring
 * its nodes to the opset graft emits, and run the result once in ONNX Runtime on a zero batch,
 * which both proves the converted graph runs and measures the feature shape (ONNX files rarely
 * record intermediate shapes, and the batch may be symbolic).
 */
export interface OnnxImportOptions {
  /** The tensor to cut at; by default the input of the last Gemm/MatMul (the classifier's features). */
  cut?: string;
  /** The input's shape after the batch dimension, for files that leave it free (e.g. [3, 224, 224]). */
  inputShape?: readonly number[];
  /** For a 4-D (NCHW) input with free height and width and no inputShape: the size to use for both. */
  imageSize?: number;
}

export interface ImportedGraph {
  readonly model: OnnxModel;
  readonly cut: OnnxCut;
  /** The graph the `onnx_subgraph` op emits. */
  readonly graph: InlineGraph;
  /** Input and feature shapes; -1 marks the batch dimension. */
  readonly inputShape: readonly number[];
  readonly featureShape: readonly number[];
}


export async function readOnnxModel(file: string): Promise<OnnxModel> {
  return parseOnnxModel(await readOnnxBytes(file), file);
}

async function readOnnxBytes(file: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw onnxError(file, code === 'ENOENT' ? 'no such file' : (e as Error).message);
  }
  return bytes;
}

export async function importOnnx(file: string, opts: OnnxImportOptions = {}): Promise<ImportedGraph> {
  const bytes = await readOnnxBytes(file);
  const model = parseOnnxModel(bytes, file);
  const cut = cutModel(model, opts.cut);
  const converted = convertNodes(model, cut.nodes);
  const opsets = new Map([...model.opsets].filter(([d]) => d !== '' && cut.nodes.some((n) => n.domain === d)));
  const nodes = converted.nodes;
  const initializers = [...cut.initializers.map((t) => t.proto), ...converted.initializers];
  const inputShape = resolveInputShape(cut, opts.inputShape, opts.imageSize);
  const perImage = inputShape.slice(1).reduce((p, d) => p * d, 1);
  if (perImage > MAX_TENSOR_VALUES) {
    throw onnxError(file, `input "${cut.input.name}" of shape [${cut.input.shape}] holds ${perImage} values per example; graft backbones take at most ${MAX_TENSOR_VALUES}`);
  }
  // Before ONNX Runtime allocates anything: a file can ask for gigabytes in a few bytes.
  checkGraphBounds({ file, input: cut.input.name, inputShape, nodes, initializers });
  const featureShape = await probeFeatureShape(cut, { nodes, initializers, opsets }, inputShape);
  const id = createHash('sha256').update(bytes).update(`#${cut.tensor}[${inputShape}]`).digest('hex').slice(0, 16);
  const graph: InlineGraph = {
    id,
    source: `ONNX model "${file}" cut at "${cut.tensor}"`,
    input: cut.input.name, output: cut.output, nodes, initializers, opsets, inputShape, outputShape: featureShape,
  };
  return { model, cut, graph, inputShape, featureShape };
}

/** The declared input shape with the batch as -1; free dimensions come from `given`. */
function resolveInputShape(cut: OnnxCut, given: readonly number[] | undefined, imageSize: number | undefined): number[] {
  const file = cut.model.file;
  const declared = cut.input.shape;
  if (given) {
    if (!Array.isArray(given) || !given.every((d) => Number.isInteger(d) && d > 0)) throw invalidParameter('inputShape', 'an array of integers >= 1', given);
    if (declared && declared.length !== given.length + 1) {
      throw onnxError(file, `inputShape [${given}] has ${given.length} dimensions after the batch but input "${cut.input.name}" has ${declared.length - 1}`);
    }
    declared?.slice(1).forEach((d, i) => {
      if (typeof d === 'number' && d !== given[i]) throw onnxError(file, `inputShape [${given}] contradicts input "${cut.input.name}" of shape [${declared}]`);
    });
    return [typeof declared?.[0] === 'number' ? declared[0] : -1, ...given];
  }
  if (!declared || declared.length === 0) {
    throw onnxError(file, `input "${cut.input.name}" has no recorded shape; pass inputShape (e.g. [3, 224, 224])`);
  }
  const free = declared.slice(1).filter((d) => typeof d !== 'number');
  if (free.length && imageSize && declared.length === 4 && typeof declared[1] === 'number') {
    return resolveInputShape(cut, [declared[1], imageSize, imageSize], undefined);
  }
  if (free.length) throw onnxError(file, `input "${cut.input.name}" has free dimensions [${declared}]; pass inputShape with the sizes after the batch`);
  return declared.map((d, i) => (i === 0 && typeof d !== 'number' ? -1 : (d as number)));
}

async function probeFeatureShape(
  cut: OnnxCut, part: Parameters<GraphBuilder['inline']>[0], inputShape: readonly number[],
): Promise<number[]> {
  const file = cut.model.file;
  const b = new GraphBuilder();
  b.addInput({ name: cut.input.name, dtype: 'float32', shape: inputShape.map((d) => (d === -1 ? 'N' : d)) });
  b.inline(part);
  b.addOutput({ name: cut.output, dtype: 'float32', shape: null });
  let session;
  try {
    session = await currentRuntime().createExecutable(b.serialize(), `the feature-shape probe of "${file}"`);
  } catch (e) {
    throw onnxError(file, `ONNX Runtime cannot run the graph cut at "${cut.tensor}" after conversion to opset ${OPSET}: ${(e as Error).message}`);
  }
  try {
    const batches = inputShape[0] === -1 ? [1, 2] : [inputShape[0]];
    const shapes: number[][] = [];
    for (const n of batches) {
      const dims = inputShape.map((d) => (d === -1 ? n : d));
      const zeros = new ort.Tensor('float32', new Float32Array(dims.reduce((a, c) => a * c, 1)), dims);
      let out: ort.Tensor;
      try {
        out = (await session.run({ [cut.input.name]: zeros }))[cut.output];
      } catch (e) {
        throw onnxError(file, `ONNX Runtime failed to run the graph cut at "${cut.tensor}" on a zero input of shape [${dims}]: ${(e as Error).message}`);
      }
      if (out.type !== 'float32') throw onnxError(file, `tensor "${cut.tensor}" holds ${out.type} values; a backbone's features must be float32 (or quantized integers with a known scale)`);
      shapes.push([...out.dims]);
    }
    if (batches.length === 1) return shapes[0];
    const [one, two] = shapes;
    const follows = one.length === two.length && one[0] === 1 && two[0] === 2 && one.slice(1).every((d, i) => d === two[i + 1]);
    if (!follows) throw onnxError(file, `tensor "${cut.tensor}" does not keep the batch as its first dimension (shape [${one}] for 1 image, [${two}] for 2)`);
    return [-1, ...one.slice(1)];
  } finally {
    await session.release();
  }
}
