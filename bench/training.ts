/**
 * Training-step speed, with the protocol of PyTorch's reference timing script: a random batch
 * [batch, 3, 224, 224], 10 classes taken as the first 10 logits of the 1000-way head, cross
 * entropy, the library's SGD with momentum 0.9 (torch.optim.SGD's rule, updated in place).
 * Reports ms per image for a step with only the head trainable (the backbone frozen, its batch
 * norms in inference mode) and for a full fine-tuning step, and the peak resident memory of the
 * process.
 *
 *   node --import tsx bench/training.ts resnet18 [batch] [threads]
 */
import { F, models, optim, setRuntimeOptions, tensor, type Tensor } from '../src/index.ts';
import type { Module } from '../src/nn/module.ts';
import type { Parameter } from '../src/nn/parameter.ts';
import { releaseSessions } from '../src/runtime/index.ts';

type Net = Module & { forward(x: Tensor): Tensor };

function randomNormal(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next());
  return out;
}

/** Cross entropy over the first `classes` logits, composed from primitives. */
function crossEntropy(logits: Tensor, labels: number[], classes: number): Tensor {
  const z = F.narrow(logits, 1, 0, classes);
  const oneHot = new Float32Array(labels.length * classes);
  labels.forEach((c, i) => { oneHot[i * classes + c] = 1; });
  return F.neg(F.mean(F.sum(F.mul(F.logSoftmax(z, 1), tensor(oneHot, [labels.length, classes])), 1)));
}

function headOf(m: Net): Module {
  const any = m as unknown as { fc?: Module; head?: Module; classifier?: { [k: string]: Module } };
  if (any.fc) return any.fc;
  // torchvision's ViT (`heads.head`, which graft's ViT also gives as `head`) and Swin (`head`).
  if (any.head) return any.head;
  const layers = Object.values(any.classifier!).filter((v) => typeof v === 'object' && v && 'forward' in v) as Module[];
  return layers[layers.length - 1];
}

async function timePerImage(step: () => Promise<void>, n: number, batch: number): Promise<number> {
  await step();
  const t = performance.now();
  for (let i = 0; i < n; i++) await step();
  return (performance.now() - t) / n / batch;
}

/**
 * One benchmark case: the model, and a step over the case's fixed batch with SGD (lr 0.01,
 * momentum 0.9) on the given parameters. bench/profile-step.ts profiles the same step.
 */
export async function trainingCase(arch: string, batch: number): Promise<{ m: Net; stepWith: (params: Parameter[]) => () => Promise<void> }> {
  const build = (models as unknown as Record<string, (o?: object) => Promise<Net>>)[arch];
  if (typeof build !== 'function') throw new RangeError(`Unknown architecture '${arch}'`);
  const m = await build();
  const x = tensor(randomNormal(batch * 3 * 224 * 224, 1), [batch, 3, 224, 224]);
  const labels = Array.from({ length: batch }, (_, i) => (i * 7) % 10);
  const stepWith = (params: Parameter[]) => {
    const optimizer = new optim.SGD(params, { lr: 0.01, momentum: 0.9 });
    return async () => {
      optimizer.zeroGrad();
      await crossEntropy(m.forward(x), labels, 10).backward();
      optimizer.step();
    };
  };
  return { m, stepWith };
}

export async function benchTraining(arch: string, opts: { batch: number; threads: number }): Promise<{ frozen_step_ms_per_img: number; full_step_ms_per_img: number }> {
  setRuntimeOptions({ threads: opts.threads });
  const { m, stepWith } = await trainingCase(arch, opts.batch);
  m.train();
  m.requiresGrad_(false);
  headOf(m).requiresGrad_(true);
  const frozen = await timePerImage(stepWith([...headOf(m).parameters()]), 3, opts.batch);
  await releaseSessions();
  m.requiresGrad_(true);
  const full = await timePerImage(stepWith([...m.parameters()]), 2, opts.batch);
  await releaseSessions();
  return { frozen_step_ms_per_img: round(frozen), full_step_ms_per_img: round(full) };
}

const round = (v: number) => Math.round(v * 100) / 100;

if (import.meta.url === `file://${process.argv[1]}`) {
  const arch = process.argv[2] ?? 'resnet18';
  const batch = Number(process.argv[3] ?? 16);
  const threads = Number(process.argv[4] ?? 2);
  const result = await benchTraining(arch, { batch, threads });
  const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  console.log(JSON.stringify({ arch, batch, threads, engine: 'graft', ...result, peak_rss_mb: peakRssMb }));
}
