import { Module } from '../nn/module.ts';
import type { Tensor } from '../graph/tensor.ts';
import { apply } from '../graph/op.ts';
import { inlineGraphAttrs, onnxSubgraph, type InlineGraphAttrs } from '../graph/ops/onnx-subgraph.ts';
import { importOnnx, type ImportedGraph, type OnnxImportOptions } from '../formats/onnx-import.ts';
import { parseOnnxLocation, type OnnxModelSpec } from './model-spec.ts';
import type { Preprocessing } from './catalog.ts';
import { IMAGENET_EVAL } from '../data/transforms/presets.ts';

/**
 * Any ONNX model as a frozen backbone: `features(x)` runs the model up to the cut tensor exactly
 * as the file computes it (a quantized int8 model stays int8), inlined into graft's graph as one
 * op, so a `Linear` head on top trains with the head-only gradient path. It has no parameters;
 * to fine-tune it, convert it with `dequantize(backbone)`, which rebuilds it from graft layers.
 */
export class OnnxBackbone extends Module {
  readonly imported: ImportedGraph;
  /**
   * How images must be prepared for it. ONNX files do not say; the default is torchvision's eval
   * transform (resize 256, center crop 224, ImageNet mean and std, NCHW), which the ONNX model
   * zoo's ImageNet classifiers expect.
   */
  preprocessing: Preprocessing;
  private readonly subgraph: InlineGraphAttrs;

  constructor(imported: ImportedGraph, preprocessing: Partial<Preprocessing> = {}) {
    super();
    this.imported = imported;
    this.subgraph = inlineGraphAttrs(imported.graph);
    this.preprocessing = { ...IMAGENET_EVAL, ...preprocessing };
  }

  /** Feature size per image (1280 for MobileNetV2 cut before its classifier). */
  get numFeatures(): number {
    return this.imported.featureShape.slice(1).reduce((a, b) => a * b, 1);
  }

  features(x: Tensor): Tensor {
    return apply(onnxSubgraph, [x], this.subgraph);
  }

  forward(x: Tensor): Tensor {
    return this.features(x);
  }

  /** It runs the file's graph as it is; unfreezing it would silently train nothing. */
  override requiresGrad_(requiresGrad = true): this {
    if (requiresGrad) {
      throw new TypeError(`${this.describe()} runs the ONNX graph as it is and has no trainable parameters; fine-tune dequantize(backbone) instead`);
    }
    return this;
  }

  describe(): string {
    return `OnnxBackbone("${this.imported.model.file}" cut at "${this.imported.cut.tensor}")`;
  }

  protected override extraRepr(): string {
    return `file=${this.imported.model.file}, cut=${this.imported.cut.tensor}, features=[${this.imported.featureShape.map((d) => (d === -1 ? 'N' : d))}]`;
  }
}

export interface OnnxBackboneOptions extends OnnxImportOptions {
  preprocessing?: Partial<Preprocessing>;
}

/**
 * Loads `path/to/model.onnx#tensor` (the tensor is optional) as a frozen backbone. The input size
 * of files with free spatial dimensions defaults to the preprocessing's crop.
 */
export async function loadOnnxBackbone(spec: string, opts: OnnxBackboneOptions = {}): Promise<OnnxBackbone> {
  const { file, tensor } = parseOnnxLocation(spec);
  if (opts.cut !== undefined && tensor !== null && opts.cut !== tensor) {
    throw new RangeError(`The cut tensor is given twice: "#${tensor}" in "${spec}" and cut: "${opts.cut}"`);
  }
  return importBackbone(file, { ...opts, cut: opts.cut ?? tensor ?? undefined });
}

async function importBackbone(file: string, opts: OnnxBackboneOptions): Promise<OnnxBackbone> {
  const preprocessing = { ...IMAGENET_EVAL, ...opts.preprocessing };
  const imported = await importOnnx(file, { imageSize: preprocessing.cropSize, ...opts });
  return new OnnxBackbone(imported, preprocessing);
}

/** `createModel('onnx:path/to/model.onnx#tensor')`: the weights come from the file, and there is no head. */
export async function createOnnxBackbone(spec: OnnxModelSpec, opts: { numClasses?: number; weights?: string | null } = {}): Promise<OnnxBackbone> {
  if (opts.weights !== undefined && opts.weights !== null) {
    throw new RangeError(`weights "${opts.weights}" cannot be combined with ${spec.spec}, whose weights come from the file`);
  }
  if (opts.numClasses !== undefined) {
    throw new RangeError(`numClasses cannot be given for ${spec.spec}: it is a backbone without a head; put a Linear(backbone.numFeatures, numClasses) on backbone.features(x)`);
  }
  return importBackbone(spec.file, { cut: spec.tensor ?? undefined });
}
