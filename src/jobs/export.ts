import { stat } from 'node:fs/promises';
import { checkChoice } from '../errors/index.ts';
import { exportOnnx, exportPth, exportSafetensors } from '../artifacts/export.ts';
import { incompleteFolderMessage, isModelFolder } from '../artifacts/model-folder.ts';
import type { Staged } from '../models/stages.ts';
import { currentRuntime, type Runtime } from '../runtime/runtime.ts';
import { throwIfAborted } from '../train/abort.ts';
import type { LoadedModel } from './load-model.ts';

export const EXPORT_FORMATS = ['onnx', 'pytorch', 'safetensors'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportOptions {
  /** onnx: the inference graph; pytorch: a .pth torchvision loads; safetensors: the weights. */
  format: ExportFormat;
  /** The file to write (atomically). */
  out: string;
  /** onnx: take uint8 RGB images of any size and resize, crop and normalize in the graph. */
  withPreprocessing?: boolean;
  /** onnx: output probabilities instead of logits. */
  softmax?: boolean;
  /** onnx: run the exported graph against graft at batch sizes 1 and 3 first (default true). */
  verify?: boolean;
  /** Checked before the export starts: an aborted signal rejects with an AbortError. */
  signal?: AbortSignal;
  /** Where the verification runs; the calling code's runtime by default. */
  runtime?: Runtime;
}

export interface ExportResult { file: string; format: ExportFormat; bytes: number }

/** A trained model folder, or a model loaded from one, written as ONNX, a PyTorch checkpoint or safetensors. */
export async function exportModel(model: string | LoadedModel, opts: ExportOptions): Promise<ExportResult> {
  checkChoice('format', opts.format, EXPORT_FORMATS);
  if (opts.format !== 'onnx' && (opts.withPreprocessing || opts.softmax)) {
    throw new RangeError(`withPreprocessing and softmax shape an ONNX graph; format ${opts.format} writes weights only`);
  }
  const source = exportSource(model);
  throwIfAborted(opts.signal, 'The export');
  const runtime = opts.runtime ?? currentRuntime();
  await runtime.run(async () => {
    if (opts.format === 'onnx') {
      await exportOnnx(source, { out: opts.out, withPreprocessing: opts.withPreprocessing, softmax: opts.softmax, verify: opts.verify ?? true });
    } else if (opts.format === 'pytorch') {
      await exportPth(source, opts.out);
    } else {
      await exportSafetensors(source, opts.out);
    }
  });
  return { file: opts.out, format: opts.format, bytes: (await stat(opts.out)).size };
}

function exportSource(model: string | LoadedModel) {
  if (typeof model === 'string') {
    if (!isModelFolder(model)) throw new RangeError(incompleteFolderMessage(model));
    return model;
  }
  if (!model.manifest) throw new TypeError(`${model.spec.spec} is not a trained model folder; only those export (graft train --out writes one)`);
  return { model: model.model as Staged, manifest: model.manifest };
}
