import { gateAtPooledSize } from './gate-at-pooled-size.ts';
import { channelScaleOntoWeights } from './channel-scale-onto-weights.ts';
import { recomputeActivations } from './recompute-activations.ts';
import type { GraphRewrite } from './rewrite-graph.ts';

export { rewriteGraph, type GraphRewrite, type RewriteContext } from './rewrite-graph.ts';
export { gateAtPooledSize, channelScaleOntoWeights, recomputeActivations };

/**
 * The rewrites `gradients()` applies to every gradient graph by default, in this order. Each is
 * exact; pass a shorter list (`{ rewrites: [] }` for none) to compare or to rule one out.
 */
export const gradientRewrites: readonly GraphRewrite[] = Object.freeze([gateAtPooledSize, channelScaleOntoWeights, recomputeActivations]);
