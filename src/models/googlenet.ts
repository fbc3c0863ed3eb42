import type { Tensor } from '../graph/tensor.ts';
import { Module, MaxPool2d, Linear, Sequential, Dropout } from '../nn/index.ts';
import * as F from '../nn/functional.ts';
import { BasicConv2d, initTruncNormal, transformInput } from './inception-common.ts';
import { stage, type Stage, type Staged } from './stages.ts';

/** torchvision's GoogLeNet (googlenet.py). */

export class Inception extends Module {
  branch1: BasicConv2d; branch2: Sequential; branch3: Sequential; branch4: Sequential;

  constructor(inChannels: number, ch1x1: number, ch3x3red: number, ch3x3: number, ch5x5red: number, ch5x5: number, poolProj: number) {
    super();
    this.branch1 = new BasicConv2d(inChannels, ch1x1, 1);
    this.branch2 = new Sequential(new BasicConv2d(inChannels, ch3x3red, 1), new BasicConv2d(ch3x3red, ch3x3, 3, { padding: 1 }));
    // A 3x3 where the paper has a 5x5: torchvision keeps the kernel its weights were trained with.
    this.branch3 = new Sequential(new BasicConv2d(inChannels, ch5x5red, 1), new BasicConv2d(ch5x5red, ch5x5, 3, { padding: 1 }));
    this.branch4 = new Sequential(new MaxPool2d(3, { stride: 1, padding: 1, ceilMode: true }), new BasicConv2d(inChannels, poolProj, 1));
  }

  forward(x: Tensor): Tensor {
    return F.cat([this.branch1.forward(x), this.branch2.forward(x), this.branch3.forward(x), this.branch4.forward(x)], 1);
  }
}

export class InceptionAux extends Module {
  conv: BasicConv2d; fc1: Linear; fc2: Linear; dropout: Dropout;

  constructor(inChannels: number, numClasses: number, dropout = 0.7) {
    super();
    this.conv = new BasicConv2d(inChannels, 128, 1);
    this.fc1 = new Linear(2048, 1024);
    this.fc2 = new Linear(1024, numClasses);
    this.dropout = new Dropout(dropout);
  }

  forward(x: Tensor): Tensor {
    const y = F.flatten(this.conv.forward(F.adaptiveAvgPool2d(x, [4, 4])), 1);
    return this.fc2.forward(this.dropout.forward(F.relu(this.fc1.forward(y))));
  }
}

export interface GoogLeNetConfig {
  numClasses?: number;
  /** Build the two auxiliary classifiers (torchvision's default without weights, and in its weight files). */
  auxLogits?: boolean;
  transformInput?: boolean;
  dropout?: number;
  dropoutAux?: number;
}

/** The main logits, and in train mode the auxiliary classifiers' (after inception4a and 4d). */
export interface GoogLeNetOutputs { logits: Tensor; aux1: Tensor | null; aux2: Tensor | null }

/**
 * `forward` returns the main logits only, in train mode too; `forwardWithAux` returns the
 * auxiliary logits as torchvision's GoogLeNetOutputs does. graft's trainer trains through
 * `stages()`, which hold the main path: the auxiliary heads stay in the state dict (so
 * torchvision's weight files load and graft's checkpoints load into torchvision) but take no part
 * in fine-tuning, which is what torchvision's pretrained builder gives (aux_logits=False).
 */
export class GoogLeNet extends Module implements Staged {
  conv1 = new BasicConv2d(3, 64, 7, { stride: 2, padding: 3 });
  maxpool1 = new MaxPool2d(3, { stride: 2, ceilMode: true });
  conv2 = new BasicConv2d(64, 64, 1);
  conv3 = new BasicConv2d(64, 192, 3, { padding: 1 });
  maxpool2 = new MaxPool2d(3, { stride: 2, ceilMode: true });
  inception3a = new Inception(192, 64, 96, 128, 16, 32, 32);
  inception3b = new Inception(256, 128, 128, 192, 32, 96, 64);
  maxpool3 = new MaxPool2d(3, { stride: 2, ceilMode: true });
  inception4a = new Inception(480, 192, 96, 208, 16, 48, 64);
  inception4b = new Inception(512, 160, 112, 224, 24, 64, 64);
  inception4c = new Inception(512, 128, 128, 256, 24, 64, 64);
  inception4d = new Inception(512, 112, 144, 288, 32, 64, 64);
  inception4e = new Inception(528, 256, 160, 320, 32, 128, 128);
  maxpool4 = new MaxPool2d(2, { stride: 2, ceilMode: true });
  inception5a = new Inception(832, 256, 160, 320, 32, 128, 128);
  inception5b = new Inception(832, 384, 192, 384, 48, 128, 128);
  aux1: InceptionAux | null;
  aux2: InceptionAux | null;
  dropout: Dropout;
  fc: Linear;
  transformInput: boolean;

  constructor(cfg: GoogLeNetConfig = {}) {
    super();
    const numClasses = cfg.numClasses ?? 1000;
    const aux = cfg.auxLogits ?? true;
    this.aux1 = aux ? new InceptionAux(512, numClasses, cfg.dropoutAux ?? 0.7) : null;
    this.aux2 = aux ? new InceptionAux(528, numClasses, cfg.dropoutAux ?? 0.7) : null;
    this.dropout = new Dropout(cfg.dropout ?? 0.2);
    this.fc = new Linear(1024, numClasses);
    this.transformInput = cfg.transformInput ?? false;
    initTruncNormal(this, 0.01);
  }

  private stem(x: Tensor): Tensor {
    if (this.transformInput) x = transformInput(x);
    x = this.maxpool1.forward(this.conv1.forward(x));
    return this.maxpool2.forward(this.conv3.forward(this.conv2.forward(x)));
  }

  private embed(x: Tensor): Tensor {
    return F.flatten(F.adaptiveAvgPool2d(x, 1), 1);
  }

  private head(x: Tensor): Tensor {
    return this.fc.forward(this.dropout.forward(x));
  }

  forwardWithAux(x: Tensor): GoogLeNetOutputs {
    const withAux = this.training;
    x = this.inception4a.forward(this.maxpool3.forward(this.inception3b.forward(this.inception3a.forward(this.stem(x)))));
    const aux1 = withAux && this.aux1 ? this.aux1.forward(x) : null;
    x = this.inception4d.forward(this.inception4c.forward(this.inception4b.forward(x)));
    const aux2 = withAux && this.aux2 ? this.aux2.forward(x) : null;
    x = this.inception5b.forward(this.inception5a.forward(this.maxpool4.forward(this.inception4e.forward(x))));
    return { logits: this.head(this.embed(x)), aux1, aux2 };
  }

  forward(x: Tensor): Tensor {
    const main = this.stages();
    return main.reduce((y, s) => s.forward(y), x);
  }

  stages(): Stage[] {
    const block = (name: string, ms: Module[]) => stage(name, ms, (x) => ms.reduce((y, m) => m.forward(y), x));
    return [
      stage('stem', [this.conv1, this.conv2, this.conv3], (x) => this.stem(x)),
      block('inception3', [this.inception3a, this.inception3b, this.maxpool3]),
      block('inception4', [this.inception4a, this.inception4b, this.inception4c, this.inception4d, this.inception4e, this.maxpool4]),
      block('inception5', [this.inception5a, this.inception5b]),
      stage('pool', [], (x) => this.embed(x)),
      stage('head', [this.fc], (x) => this.head(x)),
    ];
  }

  get numClasses(): number { return this.fc.outFeatures; }

  /** New classifiers for `numClasses`: the main one, and the auxiliary ones so the keys' shapes stay torchvision's. */
  resetClassifier(numClasses: number): void {
    this.fc = new Linear(this.fc.inFeatures, numClasses);
    for (const aux of [this.aux1, this.aux2]) if (aux) aux.fc2 = new Linear(aux.fc2.inFeatures, numClasses);
  }
}

export const googlenet = (cfg: GoogLeNetConfig = {}) => new GoogLeNet(cfg);
