import type { Preprocessing } from '../models/catalog.ts';
import type { Staged } from '../models/stages.ts';
import { invalidParameter, received } from '../errors/index.ts';
import { loadModelFolder, type ModelManifest } from './model-folder.ts';
import { parseModelSpec } from '../models/model-spec.ts';

/** What an export needs to know about a model besides its weights. */
export type ExportedManifest = Pick<ModelManifest, 'model' | 'classes' | 'preprocessing'>;

/** A trained model folder, or a model already in memory with its description. */
export type ExportSource = string | { model: Staged; manifest: ExportedManifest };

export async function resolveSource(source: ExportSource): Promise<{ model: Staged; manifest: ExportedManifest }> {
  if (typeof source === 'string') return loadModelFolder(source);
  const { model, manifest } = source;
  if (!Array.isArray(manifest.classes) || manifest.classes.length !== model.numClasses) {
    const listed = Array.isArray(manifest.classes) ? received(`${manifest.classes.length} names`) : manifest.classes;
    throw invalidParameter('the classes of the manifest', `${model.numClasses} class names (the model's outputs)`, listed);
  }
  return { model, manifest };
}

/**
 * Metadata every exported file carries, as strings: `labels` (JSON array, index = output
 * position), `preprocessing` (JSON, graft's eval transform), `graft_model` (the architecture).
 */
export function describeModel(m: ExportedManifest): Record<string, string> {
  return {
    labels: JSON.stringify(m.classes),
    preprocessing: JSON.stringify(m.preprocessing satisfies Preprocessing),
    graft_model: m.model,
  };
}

/** The ONNX file's metadata: the description plus what its input and output hold. */
export function exportMetadata(m: ExportedManifest, io: { withPreprocessing: boolean; outputName: string }): Record<string, string> {
  const input = io.withPreprocessing
    ? { name: 'input', dtype: 'uint8', layout: 'NHWC', channels: 'RGB', preprocessing: 'in the graph' }
    : { name: 'input', dtype: 'float32', layout: 'NCHW', size: [m.preprocessing.cropSize, m.preprocessing.cropSize], preprocessing: 'resize, center crop and normalize beforehand' };
  return { ...describeModel(m), graft_input: JSON.stringify(input), graft_output: io.outputName };
}

/** A torchvision architecture name, or null with the reason it is not one. */
export function foreignBackbone(spec: string): string | null {
  const kind = parseModelSpec(spec).kind;
  if (kind === 'onnx') return 'an imported ONNX backbone';
  if (kind === 'tfjs') return 'an imported TF.js model';
  return null;
}
