import type { Tensor } from '../graph/tensor.ts';
import { Module, MaxPool2d, Linear, Dropout } from '../nn/index.ts';
import * as F from '../nn/functional.ts';
import { BasicConv2d, initTruncNormal, transformInput } from './inception-common.ts';
import { stage, type Stage, type Staged } from './stages.ts';

/** torchvision's Inception v3 (inception.py): its blocks A to E and the auxiliary classifier. */

const C = (inp: number, out: number, k: F.Pair, padding: F.Pair = 0, stride = 1) => new BasicConv2d(inp, out, k, { padding, stride });
/** The 3x3 stride-1 average pool (padding counted) in front of each block's pool branch. */
const poolBranch = (x: Tensor) => F.avgPool2d(x, 3, { stride: 1, padding: 1 });
const seq = (x: Tensor, ...ms: Module[]) => ms.reduce((y, m) => m.forward(y), x);

export class InceptionA extends Module {
  branch1x1: BasicConv2d; branch5x5_1: BasicConv2d; branch5x5_2: BasicConv2d;
  branch3x3dbl_1: BasicConv2d; branch3x3dbl_2: BasicConv2d; branch3x3dbl_3: BasicConv2d; branch_pool: BasicConv2d;

  constructor(inp: number, poolFeatures: number) {
    super();
    this.branch1x1 = C(inp, 64, 1);
    this.branch5x5_1 = C(inp, 48, 1);
    this.branch5x5_2 = C(48, 64, 5, 2);
    this.branch3x3dbl_1 = C(inp, 64, 1);
    this.branch3x3dbl_2 = C(64, 96, 3, 1);
    this.branch3x3dbl_3 = C(96, 96, 3, 1);
    this.branch_pool = C(inp, poolFeatures, 1);
  }

  forward(x: Tensor): Tensor {
    return F.cat([
      this.branch1x1.forward(x),
      seq(x, this.branch5x5_1, this.branch5x5_2),
      seq(x, this.branch3x3dbl_1, this.branch3x3dbl_2, this.branch3x3dbl_3),
      this.branch_pool.forward(poolBranch(x)),
    ], 1);
  }
}

/** Grid reduction 35 -> 17. */
export class InceptionB extends Module {
  branch3x3: BasicConv2d; branch3x3dbl_1: BasicConv2d; branch3x3dbl_2: BasicConv2d; branch3x3dbl_3: BasicConv2d;

  constructor(inp: number) {
    super();
    this.branch3x3 = C(inp, 384, 3, 0, 2);
    this.branch3x3dbl_1 = C(inp, 64, 1);
    this.branch3x3dbl_2 = C(64, 96, 3, 1);
    this.branch3x3dbl_3 = C(96, 96, 3, 0, 2);
  }

  forward(x: Tensor): Tensor {
    return F.cat([
      this.branch3x3.forward(x),
      seq(x, this.branch3x3dbl_1, this.branch3x3dbl_2, this.branch3x3dbl_3),
      F.maxPool2d(x, 3, { stride: 2 }),
    ], 1);
  }
}

/** Factorized 7x7 convolutions (1x7 then 7x1). */
export class InceptionC extends Module {
  branch1x1: BasicConv2d;
  branch7x7_1: BasicConv2d; branch7x7_2: BasicConv2d; branch7x7_3: BasicConv2d;
  branch7x7dbl_1: BasicConv2d; branch7x7dbl_2: BasicConv2d; branch7x7dbl_3: BasicConv2d; branch7x7dbl_4: BasicConv2d; branch7x7dbl_5: BasicConv2d;
  branch_pool: BasicConv2d;

  constructor(inp: number, c7: number) {
    super();
    this.branch1x1 = C(inp, 192, 1);
    this.branch7x7_1 = C(inp, c7, 1);
    this.branch7x7_2 = C(c7, c7, [1, 7], [0, 3]);
    this.branch7x7_3 = C(c7, 192, [7, 1], [3, 0]);
    this.branch7x7dbl_1 = C(inp, c7, 1);
    this.branch7x7dbl_2 = C(c7, c7, [7, 1], [3, 0]);
    this.branch7x7dbl_3 = C(c7, c7, [1, 7], [0, 3]);
    this.branch7x7dbl_4 = C(c7, c7, [7, 1], [3, 0]);
    this.branch7x7dbl_5 = C(c7, 192, [1, 7], [0, 3]);
    this.branch_pool = C(inp, 192, 1);
  }

  forward(x: Tensor): Tensor {
    return F.cat([
      this.branch1x1.forward(x),
      seq(x, this.branch7x7_1, this.branch7x7_2, this.branch7x7_3),
      seq(x, this.branch7x7dbl_1, this.branch7x7dbl_2, this.branch7x7dbl_3, this.branch7x7dbl_4, this.branch7x7dbl_5),
      this.branch_pool.forward(poolBranch(x)),
    ], 1);
  }
}

/** Grid reduction 17 -> 8. */
export class InceptionD extends Module {
  branch3x3_1: BasicConv2d; branch3x3_2: BasicConv2d;
  branch7x7x3_1: BasicConv2d; branch7x7x3_2: BasicConv2d; branch7x7x3_3: BasicConv2d; branch7x7x3_4: BasicConv2d;

  constructor(inp: number) {
    super();
    this.branch3x3_1 = C(inp, 192, 1);
    this.branch3x3_2 = C(192, 320, 3, 0, 2);
    this.branch7x7x3_1 = C(inp, 192, 1);
    this.branch7x7x3_2 = C(192, 192, [1, 7], [0, 3]);
    this.branch7x7x3_3 = C(192, 192, [7, 1], [3, 0]);
    this.branch7x7x3_4 = C(192, 192, 3, 0, 2);
  }

  forward(x: Tensor): Tensor {
    return F.cat([
      seq(x, this.branch3x3_1, this.branch3x3_2),
      seq(x, this.branch7x7x3_1, this.branch7x7x3_2, this.branch7x7x3_3, this.branch7x7x3_4),
      F.maxPool2d(x, 3, { stride: 2 }),
    ], 1);
  }
}

/** Expanded filter bank: 1x3 and 3x1 side by side, concatenated inside the block. */
export class InceptionE extends Module {
  branch1x1: BasicConv2d;
  branch3x3_1: BasicConv2d; branch3x3_2a: BasicConv2d; branch3x3_2b: BasicConv2d;
  branch3x3dbl_1: BasicConv2d; branch3x3dbl_2: BasicConv2d; branch3x3dbl_3a: BasicConv2d; branch3x3dbl_3b: BasicConv2d;
  branch_pool: BasicConv2d;

  constructor(inp: number) {
    super();
    this.branch1x1 = C(inp, 320, 1);
    this.branch3x3_1 = C(inp, 384, 1);
    this.branch3x3_2a = C(384, 384, [1, 3], [0, 1]);
    this.branch3x3_2b = C(384, 384, [3, 1], [1, 0]);
    this.branch3x3dbl_1 = C(inp, 448, 1);
    this.branch3x3dbl_2 = C(448, 384, 3, 1);
    this.branch3x3dbl_3a = C(384, 384, [1, 3], [0, 1]);
    this.branch3x3dbl_3b = C(384, 384, [3, 1], [1, 0]);
    this.branch_pool = C(inp, 192, 1);
  }

  forward(x: Tensor): Tensor {
    const b3 = this.branch3x3_1.forward(x);
    const bd = seq(x, this.branch3x3dbl_1, this.branch3x3dbl_2);
    return F.cat([
      this.branch1x1.forward(x),
      F.cat([this.branch3x3_2a.forward(b3), this.branch3x3_2b.forward(b3)], 1),
      F.cat([this.branch3x3dbl_3a.forward(bd), this.branch3x3dbl_3b.forward(bd)], 1),
      this.branch_pool.forward(poolBranch(x)),
    ], 1);
  }
}

/** The auxiliary classifier on Mixed_6e's 17x17 map (it needs the 299 input: 5x5 pool stride 3, then a 5x5 conv). */
export class InceptionAux extends Module {
  conv0: BasicConv2d; conv1: BasicConv2d; fc: Linear;

  constructor(inp: number, numClasses: number) {
    super();
    this.conv0 = C(inp, 128, 1);
    this.conv1 = C(128, 768, 5);
    this.fc = new Linear(768, numClasses);
  }

  forward(x: Tensor): Tensor {
    const y = seq(F.avgPool2d(x, 5, { stride: 3 }), this.conv0, this.conv1);
    return this.fc.forward(F.flatten(F.adaptiveAvgPool2d(y, 1), 1));
  }
}

export interface Inception3Config {
  numClasses?: number;
  /** Build the auxiliary classifier (torchvision's default, and in its weight file). */
  auxLogits?: boolean;
  transformInput?: boolean;
  dropout?: number;
}

/** The main logits, and in train mode the auxiliary classifier's, as torchvision's InceptionOutputs. */
export interface InceptionOutputs { logits: Tensor; aux: Tensor | null }

/**
 * `forward` returns the main logits only, in train mode too; `forwardWithAux` adds the auxiliary
 * logits (train mode, 299 input). graft's trainer trains through `stages()`, the main path: the
 * auxiliary head stays in the state dict so torchvision's files load and graft's load into
 * torchvision, but takes no part in fine-tuning.
 */
export class Inception3 extends Module implements Staged {
  Conv2d_1a_3x3 = C(3, 32, 3, 0, 2);
  Conv2d_2a_3x3 = C(32, 32, 3);
  Conv2d_2b_3x3 = C(32, 64, 3, 1);
  maxpool1 = new MaxPool2d(3, { stride: 2 });
  Conv2d_3b_1x1 = C(64, 80, 1);
  Conv2d_4a_3x3 = C(80, 192, 3);
  maxpool2 = new MaxPool2d(3, { stride: 2 });
  Mixed_5b = new InceptionA(192, 32);
  Mixed_5c = new InceptionA(256, 64);
  Mixed_5d = new InceptionA(288, 64);
  Mixed_6a = new InceptionB(288);
  Mixed_6b = new InceptionC(768, 128);
  Mixed_6c = new InceptionC(768, 160);
  Mixed_6d = new InceptionC(768, 160);
  Mixed_6e = new InceptionC(768, 192);
  AuxLogits: InceptionAux | null;
  Mixed_7a = new InceptionD(768);
  Mixed_7b = new InceptionE(1280);
  Mixed_7c = new InceptionE(2048);
  dropout: Dropout;
  fc: Linear;
  transformInput: boolean;

  constructor(cfg: Inception3Config = {}) {
    super();
    const numClasses = cfg.numClasses ?? 1000;
    this.AuxLogits = cfg.auxLogits ?? true ? new InceptionAux(768, numClasses) : null;
    this.dropout = new Dropout(cfg.dropout ?? 0.5);
    this.fc = new Linear(2048, numClasses);
    this.transformInput = cfg.transformInput ?? false;
    initTruncNormal(this, 0.1, this.AuxLogits ? new Map<Module, number>([[this.AuxLogits.conv1.conv, 0.01], [this.AuxLogits.fc, 0.001]]) : undefined);
  }

  private stem(x: Tensor): Tensor {
    if (this.transformInput) x = transformInput(x);
    x = this.maxpool1.forward(seq(x, this.Conv2d_1a_3x3, this.Conv2d_2a_3x3, this.Conv2d_2b_3x3));
    return this.maxpool2.forward(seq(x, this.Conv2d_3b_1x1, this.Conv2d_4a_3x3));
  }

  private embed(x: Tensor): Tensor {
    return F.flatten(F.adaptiveAvgPool2d(x, 1), 1);
  }

  private head(x: Tensor): Tensor {
    return this.fc.forward(this.dropout.forward(x));
  }

  forwardWithAux(x: Tensor): InceptionOutputs {
    x = seq(this.stem(x), this.Mixed_5b, this.Mixed_5c, this.Mixed_5d, this.Mixed_6a, this.Mixed_6b, this.Mixed_6c, this.Mixed_6d, this.Mixed_6e);
    const aux = this.training && this.AuxLogits ? this.AuxLogits.forward(x) : null;
    x = seq(x, this.Mixed_7a, this.Mixed_7b, this.Mixed_7c);
    return { logits: this.head(this.embed(x)), aux };
  }

  forward(x: Tensor): Tensor {
    return this.stages().reduce((y, s) => s.forward(y), x);
  }

  /** The stem, then each grid size's blocks (35, 17 and 8), pooling, head. */
  stages(): Stage[] {
    const block = (name: string, ms: Module[]) => stage(name, ms, (x) => seq(x, ...ms));
    return [
      stage('stem', [this.Conv2d_1a_3x3, this.Conv2d_2a_3x3, this.Conv2d_2b_3x3, this.Conv2d_3b_1x1, this.Conv2d_4a_3x3], (x) => this.stem(x)),
      block('mixed5', [this.Mixed_5b, this.Mixed_5c, this.Mixed_5d]),
      block('mixed6', [this.Mixed_6a, this.Mixed_6b, this.Mixed_6c, this.Mixed_6d, this.Mixed_6e]),
      block('mixed7', [this.Mixed_7a, this.Mixed_7b, this.Mixed_7c]),
      stage('pool', [], (x) => this.embed(x)),
      stage('head', [this.fc], (x) => this.head(x)),
    ];
  }

  get numClasses(): number { return this.fc.outFeatures; }

  /** New classifiers for `numClasses`: the main one, and the auxiliary one so the keys' shapes stay torchvision's. */
  resetClassifier(numClasses: number): void {
    this.fc = new Linear(this.fc.inFeatures, numClasses);
    if (this.AuxLogits) this.AuxLogits.fc = new Linear(this.AuxLogits.fc.inFeatures, numClasses);
  }
}

export const inception_v3 = (cfg: Inception3Config = {}) => new Inception3(cfg);
