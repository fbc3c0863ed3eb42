import type { HostTensor, StateDict } from '../nn/state-dict.ts';
import { ConvNeXt, type CNBlockConfig } from './convnext.ts';
import { unknownKeys, type HubModel, type TimmFamily } from './timm-config.ts';

/**
 * timm's ConvNeXts on graft's (torchvision's) ConvNeXt. The computation is the same: timm's
 * conv_mlp variants (atto to nano) run the block's MLP as 1x1 convolutions after a LayerNorm2d,
 * which is the channels-last LayerNorm and Linear layers of torchvision's block with the weights
 * reshaped; the head is the same norm after pooling, then the Linear.
 */
const ARCHITECTURES: Readonly<Record<string, { dims: number[]; depths: number[] }>> = {
  convnext_atto: { dims: [40, 80, 160, 320], depths: [2, 2, 6, 2] },
  convnext_femto: { dims: [48, 96, 192, 384], depths: [2, 2, 6, 2] },
  convnext_pico: { dims: [64, 128, 256, 512], depths: [2, 2, 6, 2] },
  convnext_nano: { dims: [80, 160, 320, 640], depths: [2, 2, 8, 2] },
  convnext_tiny: { dims: [96, 192, 384, 768], depths: [3, 3, 9, 3] },
  convnext_small: { dims: [96, 192, 384, 768], depths: [3, 3, 27, 3] },
  convnext_base: { dims: [128, 256, 512, 1024], depths: [3, 3, 27, 3] },
  convnext_large: { dims: [192, 384, 768, 1536], depths: [3, 3, 27, 3] },
  convnext_xlarge: { dims: [256, 512, 1024, 2048], depths: [3, 3, 27, 3] },
};

const BLOCK_PARTS: Record<string, string> = {
  'conv_dw.weight': 'block.0.weight', 'conv_dw.bias': 'block.0.bias', 'norm.weight': 'block.2.weight', 'norm.bias': 'block.2.bias',
  'mlp.fc1.weight': 'block.3.weight', 'mlp.fc1.bias': 'block.3.bias', 'mlp.fc2.weight': 'block.5.weight', 'mlp.fc2.bias': 'block.5.bias',
  gamma: 'layer_scale',
};
const TOP: Record<string, string> = {
  'stem.0.weight': 'features.0.0.weight', 'stem.0.bias': 'features.0.0.bias', 'stem.1.weight': 'features.0.1.weight', 'stem.1.bias': 'features.0.1.bias',
  'head.norm.weight': 'classifier.0.weight', 'head.norm.bias': 'classifier.0.bias', 'head.fc.weight': 'classifier.2.weight', 'head.fc.bias': 'classifier.2.bias',
};

/** graft's key for one of timm's ConvNeXt keys (stages.2.blocks.4.mlp.fc1.weight -> features.5.4.block.3.weight), or null. */
export function convnextKey(timmKey: string): string | null {
  const block = /^stages\.(\d+)\.blocks\.(\d+)\.(.+)$/.exec(timmKey);
  if (block) {
    const part = BLOCK_PARTS[block[3]];
    return part ? `features.${2 * Number(block[1]) + 1}.${block[2]}.${part}` : null;
  }
  // Stage 0 has no downsampling in timm (the stem does it); torchvision's features interleave them.
  const down = /^stages\.([1-9]\d*)\.downsample\.([01])\.(weight|bias)$/.exec(timmKey);
  if (down) return `features.${2 * Number(down[1])}.${down[2]}.${down[3]}`;
  return TOP[timmKey] ?? null;
}

/** `t` under another shape of as many values: 1x1 convolutions as Linear weights, gamma [C] as layer_scale [C, 1, 1]. */
const reshaped = (t: HostTensor, shape: number[]): HostTensor => ({ ...t, shape });

export const TIMM_CONVNEXT: TimmFamily = {
  name: 'ConvNeXt',
  architectures: Object.keys(ARCHITECTURES),
  pools: ['avg'],
  poolMeaning: 'the average over the feature map, the only pooling graft\'s ConvNeXt has',
  headPrefix: 'classifier.2.',
  build(architecture, _imageSize, numClasses) {
    const { dims, depths } = ARCHITECTURES[architecture];
    const setting: CNBlockConfig[] = dims.map((d, i) => ({ inputChannels: d, outChannels: dims[i + 1] ?? null, numLayers: depths[i] }));
    // timm's create_model default: no stochastic depth.
    return new ConvNeXt(setting, 0, { numClasses: Math.max(numClasses, 1) });
  },
  fromTimm(sd: StateDict, _model: HubModel, file: string): StateDict {
    const out: StateDict = new Map();
    const unknown: string[] = [];
    for (const [key, t] of sd) {
      const k = convnextKey(key);
      if (k === null) { unknown.push(key); continue; }
      const s = t.shape;
      if (key.endsWith('.gamma')) out.set(k, reshaped(t, [s[0], 1, 1]));
      else if (/\.mlp\.fc[12]\.weight$/.test(key) && s.length === 4 && s[2] === 1 && s[3] === 1) out.set(k, reshaped(t, [s[0], s[1]]));
      else out.set(k, t);
    }
    if (unknown.length) throw unknownKeys(file, 'ConvNeXt', unknown);
    return out;
  },
};
