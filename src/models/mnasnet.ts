import type { Tensor } from '../graph/tensor.ts';
import { Module, Conv2d, BatchNorm2d, ReLU, Dropout, Linear, Sequential } from '../nn/index.ts';
import * as F from '../nn/functional.ts';
import { kaimingNormalFanOut, uniform } from '../nn/init.ts';
import { stage, type Stage, type Staged } from './stages.ts';

/**
 * torchvision's MNASNet (mnasnet.py), the B1 variant, version 2 (the stem scales with alpha, as
 * every torchvision 0.14 checkpoint of the family has it). All batch norms use momentum 0.0003,
 * PyTorch's form of the paper's TensorFlow decay 0.9997.
 */

const BN = { momentum: 1 - 0.9997 };

/** Pointwise expansion, depthwise kxk, linear pointwise projection; a residual when the shape stays. */
export class MNASNetBlock extends Module {
  layers: Sequential;
  readonly applyResidual: boolean;

  constructor(inCh: number, outCh: number, kernel: number, stride: number, expansion: number) {
    super();
    const mid = inCh * expansion;
    this.applyResidual = inCh === outCh && stride === 1;
    this.layers = new Sequential(
      new Conv2d(inCh, mid, 1, { bias: false }), new BatchNorm2d(mid, BN), new ReLU(),
      new Conv2d(mid, mid, kernel, { padding: Math.floor(kernel / 2), stride, groups: mid, bias: false }), new BatchNorm2d(mid, BN), new ReLU(),
      new Conv2d(mid, outCh, 1, { bias: false }), new BatchNorm2d(outCh, BN),
    );
  }

  forward(x: Tensor): Tensor {
    const y = this.layers.forward(x);
    return this.applyResidual ? F.add(y, x) : y;
  }
}

/** One row of the paper's table: kernel, stride, expansion, repeats (output channels come from the depths). */
type StackRow = readonly [kernel: number, stride: number, expansion: number, repeats: number];
const STACKS: readonly StackRow[] = [[3, 2, 3, 3], [5, 2, 3, 3], [5, 2, 6, 3], [3, 1, 6, 2], [5, 2, 6, 4], [3, 1, 6, 1]];
const DEPTHS = [32, 16, 24, 40, 80, 96, 192, 320];
/** Indices in `layers` of the stem (0-7), the stacks (8-13) and the final 1x1 convolution (14-16). */
const STEM_END = 8;
const LAST_STACK = STEM_END + STACKS.length;

/** torchvision's _round_to_multiple_of: to a multiple of 8, rounding up unless that is within 10%. */
function roundToMultipleOf(value: number, divisor = 8, roundUpBias = 0.9): number {
  const rounded = Math.max(divisor, Math.floor(Math.trunc(value + divisor / 2) / divisor) * divisor);
  return rounded >= roundUpBias * value ? rounded : rounded + divisor;
}

function stack(inCh: number, outCh: number, [kernel, stride, expansion, repeats]: StackRow): Sequential {
  return new Sequential(
    new MNASNetBlock(inCh, outCh, kernel, stride, expansion),
    ...Array.from({ length: repeats - 1 }, () => new MNASNetBlock(outCh, outCh, kernel, 1, expansion)),
  );
}

export interface MNASNetConfig { numClasses?: number; dropout?: number }

export class MNASNet extends Module implements Staged {
  /** torchvision's MNASNet._version: the stem scales with alpha (a version-1 checkpoint's does not). */
  override readonly stateDictVersion = 2;
  layers: Sequential;
  classifier: Sequential;

  constructor(readonly alpha: number, cfg: MNASNetConfig = {}) {
    super();
    const d = DEPTHS.map((depth) => roundToMultipleOf(depth * alpha));
    this.layers = new Sequential(
      new Conv2d(3, d[0], 3, { padding: 1, stride: 2, bias: false }), new BatchNorm2d(d[0], BN), new ReLU(),
      // Depthwise separable, no skip.
      new Conv2d(d[0], d[0], 3, { padding: 1, groups: d[0], bias: false }), new BatchNorm2d(d[0], BN), new ReLU(),
      new Conv2d(d[0], d[1], 1, { bias: false }), new BatchNorm2d(d[1], BN),
      ...STACKS.map((row, i) => stack(d[i + 1], d[i + 2], row)),
      new Conv2d(d[7], 1280, 1, { bias: false }), new BatchNorm2d(1280, BN), new ReLU(),
    );
    this.classifier = new Sequential(new Dropout(cfg.dropout ?? 0.2), new Linear(1280, cfg.numClasses ?? 1000));
    for (const m of this.modules()) {
      if (m instanceof Conv2d) m.weight.assign(kaimingNormalFanOut(m.weight.shape));
      else if (m instanceof Linear) initHead(m);
    }
  }

  forward(x: Tensor): Tensor {
    return this.classifier.forward(F.flatten(F.adaptiveAvgPool2d(this.layers.forward(x), 1), 1));
  }

  stages(): Stage[] {
    const children = [...this.layers.children()];
    const run = (modules: Module[]) => (x: Tensor) => modules.reduce((y, m) => m.forward(y), x);
    const stem = children.slice(0, STEM_END);
    const last = children.slice(LAST_STACK);
    return [
      stage('stem', stem, run(stem)),
      ...children.slice(STEM_END, LAST_STACK).map((m, i) => stage(`layers.${STEM_END + i}`, [m], (x) => m.forward(x))),
      stage('conv', last, run(last)),
      stage('pool', [], (x) => F.flatten(F.adaptiveAvgPool2d(x, 1), 1)),
      stage('head', [this.classifier], (x) => this.classifier.forward(x)),
    ];
  }

  get numClasses(): number { return (this.classifier[1] as Linear).outFeatures; }

  resetClassifier(numClasses: number): void {
    this.classifier[1] = new Linear(1280, numClasses);
  }
}

/** kaiming_uniform_(mode='fan_out', nonlinearity='sigmoid') and a zero bias, as torchvision starts the head. */
function initHead(fc: Linear): void {
  const bound = Math.sqrt(3 / fc.outFeatures);
  fc.weight.assign(uniform(fc.weight.size, -bound, bound));
  fc.bias?.assign(new Float32Array(fc.outFeatures));
}

export const mnasnet0_5 = (cfg: MNASNetConfig = {}) => new MNASNet(0.5, cfg);
export const mnasnet0_75 = (cfg: MNASNetConfig = {}) => new MNASNet(0.75, cfg);
export const mnasnet1_0 = (cfg: MNASNetConfig = {}) => new MNASNet(1.0, cfg);
export const mnasnet1_3 = (cfg: MNASNetConfig = {}) => new MNASNet(1.3, cfg);
