export { Conv2d } from './conv.ts';
export { Linear } from './linear.ts';
export { BatchNorm2d } from './batchnorm.ts';
export { ReLU, ReLU6, Hardswish, Hardsigmoid, SiLU, Sigmoid, Tanh, GELU } from './activation.ts';
export { MaxPool2d, AvgPool2d, AdaptiveAvgPool2d } from './pooling.ts';
export { Flatten, Dropout, Identity, Permute, StochasticDepth } from './misc.ts';
export { LayerNorm, LayerNorm2d } from './layernorm.ts';
export { Sequential } from './container.ts';
export { MultiheadAttention } from './attention.ts';
