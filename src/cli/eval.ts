import { evaluate } from '../jobs/evaluate.ts';
import { table } from './table.ts';
import { showsTop5 } from '../train/metrics.ts';

export async function evalCommand(modelDir: string, dataDir: string, flags: { json?: boolean; batchSize: number }): Promise<void> {
  const r = await evaluate(modelDir, dataDir, {
    batchSize: flags.batchSize,
    onEvent: (e) => { if (e.type === 'skip') process.stderr.write(`graft: skipping ${e.file}: ${e.reason}\n`); },
  });
  const top5 = showsTop5(r.classes.length) ? r.top5 : null;
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({
      data: r.root, images: r.count, accuracy: r.acc, balanced_accuracy: r.balancedAcc, top5, loss: r.loss, classes: r.classes,
      per_class: r.perClass, confusion: r.confusion, skipped_files: r.skipped.length,
    })}\n`);
    return;
  }
  process.stdout.write(`${r.root}: ${r.count} images, accuracy ${(r.acc * 100).toFixed(2)}%, balanced accuracy ${(r.balancedAcc * 100).toFixed(2)}%${top5 === null ? '' : `, top-5 ${(top5 * 100).toFixed(2)}%`}, loss ${r.loss.toFixed(4)}${r.skipped.length ? `, ${r.skipped.length} skipped` : ''}\n\n`);
  process.stdout.write(table(['class', 'precision', 'recall', 'f1', 'support'],
    r.perClass.map((c) => [c.class, c.precision.toFixed(4), c.recall.toFixed(4), c.f1.toFixed(4), String(c.support)])));
  process.stdout.write('\nconfusion matrix (rows: actual, columns: predicted)\n');
  process.stdout.write(table(['', ...r.classes], r.confusion.map((row, i) => [r.classes[i], ...row.map(String)])));
}
