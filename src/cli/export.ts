import { InvalidArgumentError } from 'commander';
import { stat } from 'node:fs/promises';
import { choiceText, expectedMessage } from '../errors/index.ts';
import { exportOnnx, exportPth, exportSafetensors } from '../artifacts/export.ts';
import { isModelFolder } from '../artifacts/model-folder.ts';

export const EXPORT_FORMATS = ['onnx', 'pytorch', 'safetensors'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export function exportFormat(v: string): ExportFormat {
  if (!(EXPORT_FORMATS as readonly string[]).includes(v)) {
    throw new InvalidArgumentError(expectedMessage('--format', choiceText(EXPORT_FORMATS), v));
  }
  return v as ExportFormat;
}

export interface ExportFlags {
  format: ExportFormat;
  out: string;
  withPreprocessing?: boolean;
  softmax?: boolean;
  verify: boolean;
  json?: boolean;
}

export async function exportCommand(modelDir: string, flags: ExportFlags): Promise<void> {
  if (!isModelFolder(modelDir)) throw new Error(`${modelDir} is not a trained model folder (no graft.json); graft train --out writes one`);
  if (flags.format !== 'onnx' && (flags.withPreprocessing || flags.softmax)) {
    throw new Error(`--with-preprocessing and --softmax shape an ONNX graph; --format ${flags.format} writes weights only`);
  }
  if (flags.format === 'onnx') {
    await exportOnnx(modelDir, { out: flags.out, withPreprocessing: flags.withPreprocessing, softmax: flags.softmax, verify: flags.verify });
  } else if (flags.format === 'pytorch') {
    await exportPth(modelDir, flags.out);
  } else {
    await exportSafetensors(modelDir, flags.out);
  }
  const bytes = (await stat(flags.out)).size;
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ file: flags.out, format: flags.format, bytes })}\n`);
    return;
  }
  process.stdout.write(`${flags.out}: ${flags.format}, ${(bytes / 1e6).toFixed(1)} MB\n`);
}
