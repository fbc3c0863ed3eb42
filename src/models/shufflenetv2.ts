import type { Tensor } from '../graph/tensor.ts';
import { Module, Conv2d, BatchNorm2d, ReLU, MaxPool2d, Linear, Sequential } from '../nn/index.ts';
import * as F from '../nn/functional.ts';
import { invalidParameter } from '../errors/index.ts';
import { stage, type Stage, type Staged } from './stages.ts';

/** torchvision's ShuffleNetV2 (shufflenetv2.py): same blocks, attribute names and state-dict keys. */

const depthwise = (channels: number, stride: number) => new Conv2d(channels, channels, 3, { stride, padding: 1, groups: channels, bias: false });
const pointwise = (inp: number, out: number) => new Conv2d(inp, out, 1, { bias: false });

/**
 * A ShuffleNetV2 unit. With stride 1 the channels split in half: one half passes through, the other
 * goes through branch2 (branch1 is empty and holds no weights). With stride 2 both branches see the
 * whole input and halve the resolution. The two halves are concatenated, then shuffled.
 */
export class ShuffleUnit extends Module {
  branch1: Sequential;
  branch2: Sequential;

  constructor(inp: number, oup: number, readonly stride: number) {
    super();
    const branchFeatures = Math.floor(oup / 2);
    if (stride === 1 && inp !== 2 * branchFeatures) {
      throw invalidParameter('inp', `${2 * branchFeatures} (oup rounded down to even) when stride is 1`, inp);
    }
    this.branch1 = stride > 1
      ? new Sequential(depthwise(inp, stride), new BatchNorm2d(inp), pointwise(inp, branchFeatures), new BatchNorm2d(branchFeatures), new ReLU())
      : new Sequential();
    this.branch2 = new Sequential(
      pointwise(stride > 1 ? inp : branchFeatures, branchFeatures), new BatchNorm2d(branchFeatures), new ReLU(),
      depthwise(branchFeatures, stride), new BatchNorm2d(branchFeatures),
      pointwise(branchFeatures, branchFeatures), new BatchNorm2d(branchFeatures), new ReLU(),
    );
  }

  forward(x: Tensor): Tensor {
    let out: Tensor;
    if (this.stride === 1) {
      const half = x.shape[1] / 2;
      out = F.cat([F.narrow(x, 1, 0, half), this.branch2.forward(F.narrow(x, 1, half, half))], 1);
    } else {
      out = F.cat([this.branch1.forward(x), this.branch2.forward(x)], 1);
    }
    return F.channelShuffle(out, 2);
  }
}

/** The architecture as torchvision writes it: units per stage (stage2-4), and output channels of conv1, stage2-4 and conv5. */
interface ShuffleNetSettings { repeats: readonly [number, number, number]; channels: readonly [number, number, number, number, number] }

const X0_5: ShuffleNetSettings = { repeats: [4, 8, 4], channels: [24, 48, 96, 192, 1024] };
const X1_0: ShuffleNetSettings = { repeats: [4, 8, 4], channels: [24, 116, 232, 464, 1024] };
const X1_5: ShuffleNetSettings = { repeats: [4, 8, 4], channels: [24, 176, 352, 704, 1024] };
const X2_0: ShuffleNetSettings = { repeats: [4, 8, 4], channels: [24, 244, 488, 976, 2048] };

export interface ShuffleNetV2Config { numClasses?: number }

const STAGES = ['stage2', 'stage3', 'stage4'] as const;

export class ShuffleNetV2 extends Module implements Staged {
  conv1: Sequential;
  maxpool = new MaxPool2d(3, { stride: 2, padding: 1 });
  stage2: Sequential; stage3: Sequential; stage4: Sequential;
  conv5: Sequential;
  fc: Linear;

  // torchvision keeps PyTorch's default initialization for this family (no init loop).
  constructor({ repeats, channels }: ShuffleNetSettings, cfg: ShuffleNetV2Config = {}) {
    super();
    this.conv1 = new Sequential(new Conv2d(3, channels[0], 3, { stride: 2, padding: 1, bias: false }), new BatchNorm2d(channels[0]), new ReLU());
    let input = channels[0];
    const stages = repeats.map((n, i) => {
      const out = channels[i + 1];
      const units = [new ShuffleUnit(input, out, 2), ...Array.from({ length: n - 1 }, () => new ShuffleUnit(out, out, 1))];
      input = out;
      return new Sequential(...units);
    });
    [this.stage2, this.stage3, this.stage4] = stages;
    const last = channels[4];
    this.conv5 = new Sequential(pointwise(input, last), new BatchNorm2d(last), new ReLU());
    this.fc = new Linear(last, cfg.numClasses ?? 1000);
  }

  forward(x: Tensor): Tensor {
    x = this.maxpool.forward(this.conv1.forward(x));
    x = this.conv5.forward(this.stage4.forward(this.stage3.forward(this.stage2.forward(x))));
    return this.fc.forward(F.flatten(F.adaptiveAvgPool2d(x, 1), 1));
  }

  stages(): Stage[] {
    return [
      stage('stem', [this.conv1], (x) => this.maxpool.forward(this.conv1.forward(x))),
      ...STAGES.map((k) => stage(k, [this[k]], (x) => this[k].forward(x))),
      stage('conv5', [this.conv5], (x) => this.conv5.forward(x)),
      stage('pool', [], (x) => F.flatten(F.adaptiveAvgPool2d(x, 1), 1)),
      stage('head', [this.fc], (x) => this.fc.forward(x)),
    ];
  }

  get numClasses(): number { return this.fc.outFeatures; }

  resetClassifier(numClasses: number): void {
    this.fc = new Linear(this.fc.inFeatures, numClasses);
  }
}

export const shufflenet_v2_x0_5 = (cfg: ShuffleNetV2Config = {}) => new ShuffleNetV2(X0_5, cfg);
export const shufflenet_v2_x1_0 = (cfg: ShuffleNetV2Config = {}) => new ShuffleNetV2(X1_0, cfg);
export const shufflenet_v2_x1_5 = (cfg: ShuffleNetV2Config = {}) => new ShuffleNetV2(X1_5, cfg);
export const shufflenet_v2_x2_0 = (cfg: ShuffleNetV2Config = {}) => new ShuffleNetV2(X2_0, cfg);
