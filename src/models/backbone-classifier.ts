import type { Tensor } from '../graph/tensor.ts';
import { Module } from '../nn/module.ts';
import { Linear } from '../nn/layers/linear.ts';
import type { Preprocessing } from './catalog.ts';
import { stage, type Stage, type Staged } from './stages.ts';

/**
 * A backbone from elsewhere (an ONNX file, a TF.js model) with a new Linear head: the same stages
 * as a zoo model (backbone, pooling, head), so the trainer freezes, caches and fine-tunes it the
 * same way. State-dict keys are `backbone.*` and `head.*`.
 */
export class BackboneClassifier extends Module implements Staged {
  backbone: Module;
  head: Linear;

  constructor(backbone: Module, readonly numFeatures: number, numClasses: number, readonly preprocessing: Preprocessing) {
    super();
    this.backbone = backbone;
    this.head = new Linear(numFeatures, numClasses);
  }

  forward(x: Tensor): Tensor {
    return this.head.forward(this.backbone.forward(x));
  }

  stages(): Stage[] {
    return [
      stage('backbone', [this.backbone], (x) => this.backbone.forward(x)),
      stage('pool', [], (x) => x),
      stage('head', [this.head], (x) => this.head.forward(x)),
    ];
  }

  get numClasses(): number { return this.head.outFeatures; }

  resetClassifier(numClasses: number): void {
    this.head = new Linear(this.numFeatures, numClasses);
  }
}
