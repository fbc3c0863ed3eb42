/**
 * torchvision's MaxVit class in a configuration a golden records (make_zoo_goldens.py's build_args,
 * its constructor's arguments), built with graft's MaxVit from the same arguments.
 */
import { models } from '../../src/index.ts';

export interface TorchMaxVitArgs {
  input_size: [number, number]; stem_channels: number; partition_size: number; block_channels: number[];
  block_layers: number[]; head_dim: number; stochastic_depth_prob: number;
}

export function maxVitFromTorchArgs(args: TorchMaxVitArgs): models.MaxVit {
  return new models.MaxVit({
    inputSize: args.input_size, stemChannels: args.stem_channels, partitionSize: args.partition_size, blockChannels: args.block_channels,
    blockLayers: args.block_layers, headDim: args.head_dim, stochasticDepthProb: args.stochastic_depth_prob,
  });
}
