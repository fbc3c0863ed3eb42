export { grad } from './grad.ts';
export { gradients, unbroadcast, GradientError } from './backward.ts';
