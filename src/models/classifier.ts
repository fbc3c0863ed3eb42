import { createModel } from './registry.ts';
import { isStaged, type Staged } from './stages.ts';
import { BackboneClassifier } from './backbone-classifier.ts';
import { createOnnxBackbone } from './onnx-backbone.ts';
import { createTfjsModel } from './tfjs-model.ts';

/**
 * A trainable classifier from any model spec: a zoo architecture (with its own head), or an
 * `onnx:` / `tfjs:` backbone with a new Linear head. The trainer and the model folder use this.
 */
export async function createClassifier(spec: string, opts: { weights?: string | null; numClasses?: number } = {}): Promise<Staged> {
  if (spec.startsWith('onnx:')) {
    const backbone = await createOnnxBackbone(spec.slice('onnx:'.length));
    return new BackboneClassifier(backbone, backbone.numFeatures, opts.numClasses ?? 2, backbone.preprocessing);
  }
  if (spec.startsWith('tfjs:')) {
    const tm = await createTfjsModel(spec.slice('tfjs:'.length), { weights: opts.weights === null ? undefined : opts.weights ?? undefined });
    if (tm.numFeatures === null) throw new TypeError(`${spec} has no Dense head to cut before; it cannot serve as a backbone`);
    if (tm.preprocessing === null) throw new TypeError(`${spec} leaves its input size open, so graft cannot tell how to prepare images for it`);
    return new BackboneClassifier(tm.backbone(), tm.numFeatures, opts.numClasses ?? tm.numClasses ?? 2, tm.preprocessing);
  }
  const model = await createModel(spec, opts);
  if (!isStaged(model)) throw new TypeError(`${spec} cannot be trained: it does not expose its stages`);
  return model;
}
