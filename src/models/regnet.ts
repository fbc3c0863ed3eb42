import type { Tensor } from '../graph/tensor.ts';
import { Module, Conv2d, BatchNorm2d, ReLU, Sigmoid, AdaptiveAvgPool2d, Linear, Sequential } from '../nn/index.ts';
import * as F from '../nn/functional.ts';
import { kaimingNormalFanOut, normals } from '../nn/init.ts';
import { convNormActivation } from './mobilenet-common.ts';
import { SqueezeExcitation } from './mobilenetv3.ts';
import { blockParams, roundHalfEven, type BlockParams, type RegNetInitParams } from './regnet-params.ts';
import { stage, type Stage, type Staged } from './stages.ts';

/**
 * torchvision's RegNet (regnet.py): the same modules under the same names (stem, trunk_output,
 * block1 ... block4, their blocks `block1-0`, ..., each with proj, f.a, f.b, f.se, f.c), so
 * torchvision's checkpoints load unchanged.
 */

/** Modules run in order under their own names, as an nn.Sequential built from an OrderedDict. */
class NamedSequential extends Module {
  constructor(entries: readonly [string, Module][]) {
    super();
    for (const [name, m] of entries) (this as unknown as Record<string, Module>)[name] = m;
  }

  forward(x: Tensor): Tensor {
    for (const m of this.children()) x = m.forward(x);
    return x;
  }
}

const relu = () => new ReLU();

/** 1x1 down to the bottleneck, grouped 3x3 (with the stride), optional squeeze-excitation, 1x1 up. */
function bottleneckTransform(widthIn: number, widthOut: number, stride: number, groupWidth: number, multiplier: number, seRatio: number | null): NamedSequential {
  const wb = roundHalfEven(widthOut * multiplier);
  const groups = Math.floor(wb / groupWidth);
  const layers: [string, Module][] = [
    ['a', convNormActivation(widthIn, wb, 1, { activation: relu })],
    ['b', convNormActivation(wb, wb, 3, { stride, groups, activation: relu })],
  ];
  // The squeeze width is relative to the block's input, not its bottleneck.
  if (seRatio) layers.push(['se', new SqueezeExcitation(wb, roundHalfEven(seRatio * widthIn), { activation: relu(), scaleActivation: new Sigmoid() })]);
  layers.push(['c', convNormActivation(wb, widthOut, 1, { activation: null })]);
  return new NamedSequential(layers);
}

/** x + f(x), with a strided 1x1 projection of x where the shape changes. */
export class ResBottleneckBlock extends Module {
  proj: Sequential | null;
  f: NamedSequential;
  activation = new ReLU();

  constructor(widthIn: number, widthOut: number, stride: number, groupWidth: number, multiplier: number, seRatio: number | null) {
    super();
    this.proj = widthIn !== widthOut || stride !== 1 ? convNormActivation(widthIn, widthOut, 1, { stride, activation: null }) : null;
    this.f = bottleneckTransform(widthIn, widthOut, stride, groupWidth, multiplier, seRatio);
  }

  forward(x: Tensor): Tensor {
    const shortcut = this.proj ? this.proj.forward(x) : x;
    return this.activation.forward(F.add(shortcut, this.f.forward(x)));
  }
}

export interface RegNetConfig { numClasses?: number; stemWidth?: number }

export class RegNet extends Module implements Staged {
  stem: Sequential;
  trunk_output: NamedSequential;
  avgpool = new AdaptiveAvgPool2d(1);
  fc: Linear;

  constructor(readonly params: BlockParams, cfg: RegNetConfig = {}) {
    super();
    const stemWidth = cfg.stemWidth ?? 32;
    this.stem = convNormActivation(3, stemWidth, 3, { stride: 2, activation: relu });
    let width = stemWidth;
    const stages = params.stages.map((s, i): [string, Module] => {
      const blocks = Array.from({ length: s.depth }, (_, j): [string, Module] => [
        `block${i + 1}-${j}`,
        new ResBottleneckBlock(j === 0 ? width : s.width, s.width, j === 0 ? s.stride : 1, s.groupWidth, s.bottleneckMultiplier, params.seRatio),
      ]);
      width = s.width;
      return [`block${i + 1}`, new NamedSequential(blocks)];
    });
    this.trunk_output = new NamedSequential(stages);
    this.fc = new Linear(width, cfg.numClasses ?? 1000);
    // torchvision's initialization: convolution weights (SE's included) kaiming-normal by fan-out,
    // their biases as nn.Conv2d left them; the classifier N(0, 0.01) with a zero bias.
    for (const m of this.modules()) if (m instanceof Conv2d) m.weight.assign(kaimingNormalFanOut(m.weight.shape));
    this.fc.weight.assign(normals(this.fc.weight.size, 0, 0.01));
    this.fc.bias?.assign(new Float32Array(this.fc.outFeatures));
  }

  forward(x: Tensor): Tensor {
    return this.fc.forward(F.flatten(this.avgpool.forward(this.trunk_output.forward(this.stem.forward(x))), 1));
  }

  stages(): Stage[] {
    return [
      stage('stem', [this.stem], (x) => this.stem.forward(x)),
      ...[...this.trunk_output.namedChildren()].map(([k, m]) => stage(`trunk_output.${k}`, [m], (x) => m.forward(x))),
      stage('pool', [], (x) => F.flatten(this.avgpool.forward(x), 1)),
      stage('head', [this.fc], (x) => this.fc.forward(x)),
    ];
  }

  get numClasses(): number { return this.fc.outFeatures; }

  resetClassifier(numClasses: number): void {
    this.fc = new Linear(this.fc.inFeatures, numClasses);
  }
}

/** The six numbers of each torchvision builder; everything else follows from them (regnet-params.ts). */
const Y = (depth: number, w0: number, wa: number, wm: number, groupWidth: number): RegNetInitParams => ({ depth, w0, wa, wm, groupWidth, seRatio: 0.25 });
const X = (depth: number, w0: number, wa: number, wm: number, groupWidth: number): RegNetInitParams => ({ depth, w0, wa, wm, groupWidth });

export const REGNET_DESIGNS = {
  regnet_y_400mf: Y(16, 48, 27.89, 2.09, 8),
  regnet_y_800mf: Y(14, 56, 38.84, 2.4, 16),
  regnet_y_1_6gf: Y(27, 48, 20.71, 2.65, 24),
  regnet_y_3_2gf: Y(21, 80, 42.63, 2.66, 24),
  regnet_y_8gf: Y(17, 192, 76.82, 2.19, 56),
  regnet_y_16gf: Y(18, 200, 106.23, 2.48, 112),
  regnet_y_32gf: Y(20, 232, 115.89, 2.53, 232),
  regnet_y_128gf: Y(27, 456, 160.83, 2.52, 264),
  regnet_x_400mf: X(22, 24, 24.48, 2.54, 16),
  regnet_x_800mf: X(16, 56, 35.73, 2.28, 16),
  regnet_x_1_6gf: X(18, 80, 34.01, 2.25, 24),
  regnet_x_3_2gf: X(25, 88, 26.31, 2.25, 48),
  regnet_x_8gf: X(23, 80, 49.56, 2.88, 120),
  regnet_x_16gf: X(22, 216, 55.59, 2.1, 128),
  regnet_x_32gf: X(23, 320, 69.86, 2.0, 168),
} as const satisfies Record<string, RegNetInitParams>;

export type RegNetName = keyof typeof REGNET_DESIGNS;

const regnet = (name: RegNetName) => (cfg: RegNetConfig = {}) => new RegNet(blockParams(REGNET_DESIGNS[name]), cfg);

export const regnet_y_400mf = regnet('regnet_y_400mf');
export const regnet_y_800mf = regnet('regnet_y_800mf');
export const regnet_y_1_6gf = regnet('regnet_y_1_6gf');
export const regnet_y_3_2gf = regnet('regnet_y_3_2gf');
export const regnet_y_8gf = regnet('regnet_y_8gf');
export const regnet_y_16gf = regnet('regnet_y_16gf');
export const regnet_y_32gf = regnet('regnet_y_32gf');
export const regnet_y_128gf = regnet('regnet_y_128gf');
export const regnet_x_400mf = regnet('regnet_x_400mf');
export const regnet_x_800mf = regnet('regnet_x_800mf');
export const regnet_x_1_6gf = regnet('regnet_x_1_6gf');
export const regnet_x_3_2gf = regnet('regnet_x_3_2gf');
export const regnet_x_8gf = regnet('regnet_x_8gf');
export const regnet_x_16gf = regnet('regnet_x_16gf');
export const regnet_x_32gf = regnet('regnet_x_32gf');
