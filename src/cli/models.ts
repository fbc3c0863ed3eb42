import { listModels, weightsFor } from '../models/registry.ts';
import { table } from './table.ts';

export function modelsCommand(opts: { json?: boolean }): void {
  const rows = listModels().map((arch) => ({
    arch,
    weights: weightsFor(arch).map((w) => ({
      name: w.name, default: w.isDefault, params: w.numParams, acc1: w.acc1, acc5: w.acc5,
      file: w.fileName, resize: w.preprocessing.resizeSize, crop: w.preprocessing.cropSize,
    })),
  }));
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(rows, null, 1)}\n`);
    return;
  }
  const lines = rows.flatMap(({ arch, weights }) => weights.map((w) => [
    arch, w.name + (w.default ? ' *' : ''), `${(w.params / 1e6).toFixed(1)}M`, w.acc1.toFixed(2), w.acc5.toFixed(2), `${w.resize}/${w.crop}`,
  ]));
  process.stdout.write(table(['model', 'weights', 'params', 'acc@1', 'acc@5', 'resize/crop'], lines));
  process.stdout.write('* default variant. Weights download on first use into the cache; files already in PyTorch\'s cache are reused.\n');
}
