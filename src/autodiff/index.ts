export { grad } from './grad.ts';
export { gradients, unbroadcast, GradientError, type GradientOptions } from './backward.ts';
export { gradientRewrites, gateAtPooledSize, channelScaleOntoWeights, recomputeActivations, rewriteGraph, type GraphRewrite, type RewriteContext } from './rewrites/index.ts';
