/**
 * The model folder fixture of the PyTorch export check, and its golden: graft's logits.
 *
 * test/fixtures/export/model/ is a trained-model folder (mobilenet_v3_small, 3 classes) whose
 * weights are test/support/deterministic.ts's state dict stored as float16, so the folder stays
 * small and graft, the .pth and torchvision all hold the same values. golden.json holds the
 * inputs (deterministicInput, seed 7) and graft's logits for them. scripts/check_pth_export.py
 * loads an exported .pth into torchvision and compares. Regenerate from the repository root:
 *
 *     node --import tsx scripts/make_export_fixture.ts
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tensor } from '../src/graph/tensor.ts';
import { createClassifier } from '../src/models/classifier.ts';
import { MODEL_FILE, loadModelFolder, saveModelFolder } from '../src/artifacts/model-folder.ts';
import { readSafetensors, writeSafetensors } from '../src/formats/safetensors.ts';
import { deterministicInput, deterministicStateDict } from '../test/support/deterministic.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIR = path.join(ROOT, 'test', 'fixtures', 'export');
const ARCH = 'mobilenet_v3_small';
const CLASSES = ['ant', 'bee', 'wasp'];
const INPUT_SHAPE = [2, 3, 32, 32];
const INPUT_SEED = 7;

const model = await createClassifier(ARCH, { weights: null, numClasses: CLASSES.length });
const sd = deterministicStateDict([...model.stateDict()].map(([k, t]) => [k, t.shape] as const));
for (const t of sd.values()) if (t.dtype === 'float32') t.sourceDtype = 'float16';
const folder = path.join(DIR, 'model');
await saveModelFolder(folder, model, {
  model: ARCH, pretrained: null, classes: CLASSES,
  preprocessing: { resizeSize: 256, cropSize: 224, interpolation: 'bilinear', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  training: { note: 'deterministic weights (test/support/deterministic.ts) stored as float16; not trained' }, metrics: {}, history: [],
});
await writeSafetensors(path.join(folder, MODEL_FILE), sd, { format: 'pt', graft_model: ARCH });

const { model: loaded } = await loadModelFolder(folder);
const input = deterministicInput(INPUT_SHAPE, INPUT_SEED);
const logits = await loaded.forward(tensor(input, INPUT_SHAPE)).floats();
const rounded = await readSafetensors(path.join(folder, MODEL_FILE));
if (![...rounded.values()].every((t) => t.dtype === 'int64' || t.sourceDtype === 'float16')) throw new Error('expected float16 weights in the fixture');
await writeFile(path.join(DIR, 'golden.json'), `${JSON.stringify({
  arch: ARCH, num_classes: CLASSES.length, input_shape: INPUT_SHAPE, input_seed: INPUT_SEED,
  input: Array.from(input), logits: Array.from(logits), max_abs: Math.max(...Array.from(logits, Math.abs)),
})}\n`);
console.log(`wrote ${folder} and golden.json; logits up to ${Math.max(...Array.from(logits, Math.abs)).toFixed(4)}`);
