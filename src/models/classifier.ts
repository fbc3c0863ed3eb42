import { createModel } from './registry.ts';
import { isStaged, type Staged } from './stages.ts';
import { BackboneClassifier } from './backbone-classifier.ts';
import { createOnnxBackbone } from './onnx-backbone.ts';
import { dequantize } from './dequantize.ts';
import { createHubModel } from './hub-model.ts';
import { createTfjsModel } from './tfjs-model.ts';
import { parseModelSpec, unknownModelMessage } from './model-spec.ts';

/**
 * A trainable classifier from any model spec: a zoo architecture (with its own head), or an
 * `onnx:` / `tfjs:` backbone with a new Linear head. The trainer and the model folder use this.
 */
export interface ClassifierOptions {
  weights?: string | null;
  numClasses?: number;
  /**
   * An ONNX backbone runs as the file computes it (int8 stays int8), which cannot be trained; with
   * this set it is rebuilt from graft layers with float parameters instead (dequantized).
   */
  trainableBackbone?: boolean;
  /** The square input a ViT is built for (see ModelOptions.imageSize); other families ignore it. */
  imageSize?: number;
}

export async function createClassifier(spec: string, opts: ClassifierOptions = {}): Promise<Staged> {
  const parsed = parseModelSpec(spec);
  if (parsed.kind === 'onnx') {
    const file = await createOnnxBackbone(parsed);
    const backbone = opts.trainableBackbone ? dequantize(file) : file;
    return new BackboneClassifier(backbone, file.numFeatures, opts.numClasses ?? 2, file.preprocessing);
  }
  if (parsed.kind === 'tfjs') {
    const tm = await createTfjsModel(parsed.modelJson, { weights: opts.weights === null ? undefined : opts.weights ?? undefined });
    if (tm.numFeatures === null) throw new TypeError(`${spec} has no Dense head to cut before; it cannot serve as a backbone`);
    if (tm.preprocessing === null) throw new TypeError(`${spec} leaves its input size open, so graft cannot tell how to prepare images for it`);
    return new BackboneClassifier(tm.backbone(), tm.numFeatures, opts.numClasses ?? tm.numClasses ?? 2, tm.preprocessing);
  }
  if (parsed.kind === 'folder') throw new RangeError(unknownModelMessage(spec, 'not accepted'));
  if (parsed.kind === 'hub') return createHubModel(parsed, { numClasses: opts.numClasses ?? 2, imageSize: opts.imageSize, weights: opts.weights === null ? null : undefined });
  const model = await createModel(parsed.arch, opts);
  if (!isStaged(model)) throw new TypeError(`${spec} cannot be trained: it does not expose its stages`);
  return model;
}
