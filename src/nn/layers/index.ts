export { Conv2d } from './conv.ts';
export { Linear } from './linear.ts';
export { BatchNorm2d } from './batchnorm.ts';
export { ReLU, ReLU6, Hardswish, Hardsigmoid, SiLU, Sigmoid } from './activation.ts';
export { MaxPool2d, AvgPool2d, AdaptiveAvgPool2d } from './pooling.ts';
export { Flatten, Dropout, Identity } from './misc.ts';
export { Sequential } from './container.ts';
