import type { Module } from '../nn/module.ts';
import { Conv2d } from '../nn/layers/conv.ts';
import { Linear } from '../nn/layers/linear.ts';
import { kaimingNormalFanOut, normals } from '../nn/init.ts';

/**
 * torchvision's initialization of VGG and the MobileNets: convolutions kaiming_normal_ (fan_out,
 * relu), linear layers N(0, 0.01), every bias zero. Batch norms keep their ones and zeros.
 */
export function initConvLinear(model: Module): void {
  for (const m of model.modules()) {
    if (m instanceof Conv2d) {
      m.weight.assign(kaimingNormalFanOut(m.weight.shape));
      m.bias?.assign(new Float32Array(m.outChannels));
    } else if (m instanceof Linear) {
      m.weight.assign(normals(m.weight.size, 0, 0.01));
      m.bias?.assign(new Float32Array(m.outFeatures));
    }
  }
}
