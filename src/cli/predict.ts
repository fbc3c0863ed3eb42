import { loadModel } from '../jobs/load-model.ts';
import { predict } from '../jobs/predict.ts';

interface PredictFlags { model: string; weights: string; topk: number; batchSize: number; json?: boolean }

export async function predictCommand(images: string[], flags: PredictFlags): Promise<void> {
  const model = await loadModel(flags.model, { weights: flags.weights });
  const results = await predict(model, images, { topk: flags.topk, batchSize: flags.batchSize });
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(results.map((r) => ({ file: r.file, top: r.top.map((t) => ({ ...t, prob: +t.prob.toFixed(6) })), ...(r.error ? { error: r.error } : {}) })), null, 1)}\n`);
  } else {
    for (const r of results) {
      if (r.error) { process.stdout.write(`${r.file}: ERROR ${r.error}\n`); continue; }
      process.stdout.write(`${r.file}\n${r.top.map((t) => `  ${(t.prob * 100).toFixed(2).padStart(6)}%  ${t.label} (${t.index})`).join('\n')}\n`);
    }
  }
  const failed = results.filter((r) => r.error);
  if (failed.length) {
    process.stderr.write(`graft: ${failed.length} of ${results.length} images could not be read: ${failed.map((r) => r.file).join(', ')}\n`);
    process.exitCode = 1;
  }
}
