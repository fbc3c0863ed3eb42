/**
 * End-to-end checks on the reference data beside the repository (../shared), against PyTorch run
 * in the same session: the mission's recipe on hymenoptera with MobileNetV2 in frozen and finetune
 * modes, the feature-cache speed-up, peak memory on a dataset 10x larger, and an interrupted run
 * resumed after SIGKILL; efficientnet_b0 and convnext_tiny from random weights, frozen and
 * finetune, on the whole bundled hymenoptera-mini at 224 (npm test trains them on a few of its
 * images). Prints one JSON object per check; `--only name,name` picks checks, `--no-pytorch`
 * skips the reference runs.
 * usage: npm run e2e [-- --only frozen,cache,finetune,memory,resume,backbones,families]
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';

const root = resolve(import.meta.dirname, '..');
const shared = resolve(root, '..', 'shared');
const data = join(shared, 'data', 'hymenoptera');
const weights = join(shared, 'weights', 'mobilenet_v2_imagenet.pth');
const args = process.argv.slice(2);
const only = new Set((args.find((a) => a.startsWith('--only='))?.slice(7) ?? (args.includes('--only') ? args[args.indexOf('--only') + 1] : 'frozen,cache,finetune,memory,resume,backbones,families')).split(','));
const withPytorch = !args.includes('--no-pytorch') && spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
const work = join(tmpdir(), `graft-e2e-${process.pid}`);
mkdirSync(work, { recursive: true });

if (!existsSync(data) && [...only].some((c) => c !== 'families')) {
  console.error(`The end-to-end checks need the reference data at ${data}`);
  process.exit(2);
}

const recipe = ['--model', 'mobilenet_v2', '--weights', weights, '--epochs', '25', '--batch-size', '4', '--optimizer', 'sgd', '--lr', '1e-3',
  '--momentum', '0.9', '--weight-decay', '0', '--scheduler', 'step', '--step-size', '7', '--gamma', '0.1', '--seed', '0'];

/** Runs `graft train` and returns its JSON (which includes the process's peak RSS) and wall time. */
function graftTrain(dataDir: string, extra: string[], out: string): { result: Record<string, unknown>; wall: number; rssMb: number | null } {
  const cmd = [process.execPath, '--import', 'tsx', join(root, 'src/cli/main.ts'), 'train', dataDir, ...extra, '--out', out, '--json', '--quiet'];
  const t0 = performance.now();
  const r = spawnSync(cmd[0], cmd.slice(1), { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26 });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`graft train failed:\n${r.stderr.slice(-3000)}`);
  const result = JSON.parse(r.stdout.trim().split('\n').pop()!);
  return { result, wall, rssMb: result.peak_rss_mb ?? null };
}

function pytorchRecipe(mode: string): { best: number; wall: number } | null {
  if (!withPytorch) return null;
  const r = spawnSync('/usr/bin/python3', [join(shared, 'refs', 'pytorch_seed_recipe.py'), weights, data, mode], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const m = /RESULT mode=\w+ epochs=\d+ best_val_acc=([\d.]+) wall_s=([\d.]+)/.exec(r.stdout);
  return m ? { best: Number(m[1]), wall: Number(m[2]) } : null;
}

const report = (o: Record<string, unknown>) => console.log(JSON.stringify(o));
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

if (only.has('frozen') || only.has('cache')) {
  const ref = pytorchRecipe('frozen');
  if (only.has('frozen')) {
    const cache = join(work, 'cache-frozen');
    const g = graftTrain(data, [...recipe, '--mode', 'frozen', '--augment', 'light', '--cache-dir', cache], join(work, 'frozen'));
    report({ check: 'frozen recipe (RandomResizedCrop + flip)', graft_best_val_acc: g.result.best_val_acc, graft_wall_s: +g.wall.toFixed(1),
      pytorch_best_val_acc: ref?.best ?? null, pytorch_wall_s: ref?.wall ?? null, time_ratio: ref ? +(g.wall / ref.wall).toFixed(3) : null,
      targets: 'acc >= 0.92, time ratio <= 0.2' });
  }
  if (only.has('cache')) {
    const cache = join(work, 'cache-none');
    const cold = graftTrain(data, [...recipe, '--mode', 'frozen', '--augment', 'none', '--cache-dir', cache], join(work, 'cache-cold'));
    const warm = graftTrain(data, [...recipe, '--mode', 'frozen', '--augment', 'none', '--cache-dir', cache], join(work, 'cache-warm'));
    report({ check: 'frozen, feature cache, no augmentation', graft_best_val_acc: cold.result.best_val_acc, cold_wall_s: +cold.wall.toFixed(1),
      warm_wall_s: +warm.wall.toFixed(1), pytorch_wall_s: ref?.wall ?? null, speedup_cold: ref ? +(ref.wall / cold.wall).toFixed(1) : null,
      speedup_warm: ref ? +(ref.wall / warm.wall).toFixed(1) : null, targets: 'acc >= 0.92, speedup >= 20' });
  }
}

if (only.has('finetune')) {
  const ref = pytorchRecipe('finetune');
  const g = graftTrain(data, [...recipe, '--mode', 'finetune', '--augment', 'light'], join(work, 'finetune'));
  report({ check: 'finetune recipe', graft_best_val_acc: g.result.best_val_acc, graft_wall_s: +g.wall.toFixed(1), pytorch_best_val_acc: ref?.best ?? null,
    pytorch_wall_s: ref?.wall ?? null, time_ratio: ref ? +(g.wall / ref.wall).toFixed(3) : null, targets: 'acc >= pytorch, time ratio <= 0.5' });
}

if (only.has('memory')) {
  // Ten copies of every image under distinct names: a dataset 10x hymenoptera's size.
  const big = join(work, 'hymenoptera-x10');
  for (const split of ['train', 'val']) for (const cls of readdirSync(join(data, split))) {
    mkdirSync(join(big, split, cls), { recursive: true });
    for (const f of readdirSync(join(data, split, cls))) for (let k = 0; k < 10; k++) symlinkSync(join(data, split, cls, f), join(big, split, cls, `${k}-${f}`));
  }
  for (const mode of ['frozen', 'finetune']) {
    const extra = mode === 'frozen' ? ['--epochs', '3', '--no-cache'] : ['--epochs', '1'];
    const g = graftTrain(big, [...recipe.filter((_, i, a) => a[i - 1] !== '--epochs' && a[i] !== '--epochs'), ...extra, '--mode', mode, '--batch-size', '16'], join(work, `memory-${mode}`));
    report({ check: `peak RSS, 10x hymenoptera, ${mode}`, train_images: g.result.train_images, peak_rss_mb: g.rssMb, wall_s: +g.wall.toFixed(1), target: 'peak RSS < 1536 MB' });
  }
}

if (only.has('resume')) {
  // The same seeded run twice: once straight through, once killed mid-epoch and resumed.
  const extra = [...recipe.filter((_, i, a) => a[i - 1] !== '--epochs' && a[i] !== '--epochs'), '--epochs', '3', '--mode', 'finetune', '--batch-size', '8'];
  const straight = join(work, 'resume-straight');
  graftTrain(data, extra, straight);
  const killed = join(work, 'resume-killed');
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'train', data, ...extra, '--out', killed, '--quiet'], { cwd: root, stdio: 'ignore' });
  // Kill it once the first epoch's checkpoint exists, a few seconds into the second epoch.
  await new Promise<void>((done) => {
    const poll = setInterval(() => {
      if (existsSync(join(killed, 'checkpoint.safetensors'))) {
        clearInterval(poll);
        setTimeout(() => { child.kill('SIGKILL'); done(); }, 5000);
      }
    }, 200);
  });
  await new Promise((r) => child.on('exit', r));
  graftTrain(data, [...extra, '--resume'], killed);
  const same = sha(join(straight, 'model.safetensors')) === sha(join(killed, 'model.safetensors'));
  report({ check: 'SIGKILL mid-epoch, then --resume', identical_weights: same, target: 'identical' });
}

if (only.has('backbones')) {
  // Imported backbones, frozen, with a new head: the ONNX Model Zoo's int8 MobileNetV2 and a Teachable Machine export.
  const common = [...recipe.filter((_, i, a) => !['--model', '--weights'].includes(a[i]) && !['--model', '--weights'].includes(a[i - 1])), '--mode', 'frozen', '--augment', 'light'];
  const onnx = graftTrain(data, ['--model', `onnx:${join(shared, 'weights', 'mobilenetv2-12-int8.onnx')}`, ...common, '--cache-dir', join(work, 'cache-onnx')], join(work, 'onnx'));
  report({ check: 'int8 ONNX MobileNetV2 backbone, frozen', graft_best_val_acc: onnx.result.best_val_acc, wall_s: +onnx.wall.toFixed(1), target: 'acc >= 0.92' });
  const tm = graftTrain(data, ['--model', `tfjs:${join(shared, 'weights', 'teachable-machine-mobilenetv2-0.35', 'model.json')}`, ...common, '--cache-dir', join(work, 'cache-tfjs')], join(work, 'tfjs'));
  report({ check: 'Teachable Machine backbone, frozen', graft_best_val_acc: tm.result.best_val_acc, wall_s: +tm.wall.toFixed(1), target: 'acc >= 0.88' });
}

if (only.has('families')) {
  // The zoo's new families without downloads: random weights, so accuracy is not the point;
  // that both modes run through the whole sample at full size, and how long they take, is.
  const sample = join(root, 'assets', 'sample-data', 'hymenoptera-mini');
  for (const model of ['efficientnet_b0', 'convnext_tiny']) {
    for (const mode of ['frozen', 'finetune']) {
      const g = graftTrain(sample, ['--model', model, '--weights', 'none', '--mode', mode, '--epochs', '1', '--batch-size', '8', '--views', '1', '--no-cache', '--seed', '0'], join(work, `${model}-${mode}`));
      report({ check: `${model} ${mode}, random weights, hymenoptera-mini`, train_images: g.result.train_images, val_images: g.result.val_images,
        best_val_loss: g.result.best_val_loss, wall_s: +g.wall.toFixed(1), peak_rss_mb: g.rssMb, target: 'finishes, finite loss' });
    }
  }
}

rmSync(work, { recursive: true, force: true });
