/**
 * The .pth exports of every convolutional family, for scripts/check_pth_export.py to load into
 * torchvision: for each family of test/support/export-families.ts, its model folder, the .pth
 * `graft export --format pytorch` writes (<arch>.pth) and graft's logits on a deterministic
 * batch of two at the family's input size (<arch>.json, the same fields as
 * test/fixtures/export/golden.json). From the repository root:
 *
 *     node --import tsx scripts/make_family_exports.ts /some/dir
 *     python3 scripts/check_pth_export.py /some/dir
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tensor } from '../src/graph/tensor.ts';
import { loadModelFolder } from '../src/artifacts/model-folder.ts';
import { deterministicInput } from '../test/support/deterministic.ts';
import { EXPORT_FAMILIES, FAMILY_CLASSES, familyModelFolder } from '../test/support/export-families.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const INPUT_SEED = 7;

const out = process.argv[2];
if (!out) {
  console.error('usage: node --import tsx scripts/make_family_exports.ts <output folder>');
  process.exit(2);
}
mkdirSync(out, { recursive: true });
for (const [arch, side] of Object.entries(EXPORT_FAMILIES)) {
  const folder = await familyModelFolder(path.join(out, 'folders'), arch);
  const pth = path.join(out, `${arch}.pth`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), 'export', folder, '--format', 'pytorch', '--out', pth], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`graft export ${arch}: ${r.stderr}`);
  const { model } = await loadModelFolder(folder);
  const inputShape = [2, 3, side, side];
  const input = deterministicInput(inputShape, INPUT_SEED);
  const logits = await model.forward(tensor(input, inputShape)).floats();
  writeFileSync(path.join(out, `${arch}.json`), JSON.stringify({
    arch, num_classes: FAMILY_CLASSES.length, input_shape: inputShape, input_seed: INPUT_SEED, input: Array.from(input), logits: Array.from(logits),
  }));
  console.log(`${pth}: ${arch} on ${side}x${side}`);
}
