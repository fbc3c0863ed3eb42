import { InvalidArgumentError } from 'commander';
import { choiceText, expectedMessage } from '../errors/index.ts';
import { EXPORT_FORMATS, exportModel, type ExportFormat } from '../jobs/export.ts';

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
  const r = await exportModel(modelDir, { format: flags.format, out: flags.out, withPreprocessing: flags.withPreprocessing, softmax: flags.softmax, verify: flags.verify });
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ file: r.file, format: r.format, bytes: r.bytes })}\n`);
    return;
  }
  process.stdout.write(`${r.file}: ${r.format}, ${(r.bytes / 1e6).toFixed(1)} MB\n`);
}
