import type { StateDict } from '../nn/state-dict.ts';
import { efficientnet_b0, efficientnet_b1, efficientnet_b2, efficientnet_b3, efficientnet_b4, type EfficientNet } from './efficientnet.ts';
import { unknownKeys, type TimmFamily } from './timm-config.ts';

/**
 * timm's plain EfficientNets (B0-B4) on graft's (torchvision's) EfficientNet: the same blocks,
 * channels and depths, batch norm with PyTorch's epsilon and symmetric padding. Its B5 and up
 * would need PyTorch's epsilon where graft's builders have TensorFlow's, and its tf_ variants
 * TensorFlow's 'same' padding: those are not mapped.
 */
const BUILDERS: Readonly<Record<string, (cfg: { numClasses: number; stochasticDepthProb: number }) => EfficientNet>> = {
  efficientnet_b0, efficientnet_b1, efficientnet_b2, efficientnet_b3, efficientnet_b4,
};

/** timm's two block kinds: DepthwiseSeparableConv (the first stage's, no expansion) and InvertedResidual. */
const SEPARABLE: Record<string, string> = {
  conv_dw: 'block.0.0', bn1: 'block.0.1', 'se.conv_reduce': 'block.1.fc1', 'se.conv_expand': 'block.1.fc2', conv_pw: 'block.2.0', bn2: 'block.2.1',
};
const INVERTED: Record<string, string> = {
  conv_pw: 'block.0.0', bn1: 'block.0.1', conv_dw: 'block.1.0', bn2: 'block.1.1',
  'se.conv_reduce': 'block.2.fc1', 'se.conv_expand': 'block.2.fc2', conv_pwl: 'block.3.0', bn3: 'block.3.1',
};
const PARAM = /^(.+)\.(weight|bias|running_mean|running_var|num_batches_tracked)$/;

/**
 * graft's key for one of timm's EfficientNet keys, or null: blocks.i.j.* -> features.(i+1).j.block.*
 * by the block's kind, conv_stem/bn1 -> features.0, conv_head/bn2 -> the features' last entry
 * (after `stages` stages), classifier -> classifier.1.
 */
export function efficientnetKey(timmKey: string, inverted: boolean, stages: number): string | null {
  const m = PARAM.exec(timmKey);
  if (!m) return null;
  const [, module, param] = m;
  const block = /^blocks\.(\d+)\.(\d+)\.(.+)$/.exec(module);
  if (block) {
    const part = (inverted ? INVERTED : SEPARABLE)[block[3]];
    return part ? `features.${Number(block[1]) + 1}.${block[2]}.${part}.${param}` : null;
  }
  const top: Record<string, string> = { conv_stem: 'features.0.0', bn1: 'features.0.1', conv_head: `features.${stages + 1}.0`, bn2: `features.${stages + 1}.1`, classifier: 'classifier.1' };
  return top[module] ? `${top[module]}.${param}` : null;
}

export const TIMM_EFFICIENTNET: TimmFamily = {
  name: 'EfficientNet',
  architectures: Object.keys(BUILDERS),
  pools: ['avg'],
  poolMeaning: 'the average over the feature map, the only pooling graft\'s EfficientNet has',
  headPrefix: 'classifier.1.',
  build(architecture, _imageSize, numClasses) {
    // timm's create_model default: no stochastic depth.
    return BUILDERS[architecture]({ numClasses: Math.max(numClasses, 1), stochasticDepthProb: 0 });
  },
  fromTimm(sd, model, file): StateDict {
    const stages = (model as EfficientNet).setting.length;
    const inverted = new Set([...sd.keys()].map((k) => /^(blocks\.\d+\.\d+)\.conv_pwl\./.exec(k)?.[1]).filter((b) => b !== undefined));
    const out: StateDict = new Map();
    const unknown: string[] = [];
    for (const [key, t] of sd) {
      const k = efficientnetKey(key, inverted.has(/^blocks\.\d+\.\d+/.exec(key)?.[0] ?? ''), stages);
      if (k === null) unknown.push(key);
      else out.set(k, t);
    }
    if (unknown.length) throw unknownKeys(file, 'EfficientNet', unknown);
    return out;
  },
};
