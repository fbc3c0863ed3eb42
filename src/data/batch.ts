/**
 * One batch from the DataLoader: Float32 NCHW images, their labels and the files they came from.
 * The data layer knows no tensors; nn/batch-tensors.ts adds the iterator that makes
 * `const [x, y] = batch` give the images and labels as tensors, the way the layers above
 * graph/tensor.ts add the methods that need them.
 */
export class Batch {
  constructor(
    /** n * 3 * h * w floats, NCHW (over shared memory when worker threads produced it). */
    readonly images: Float32Array,
    readonly shape: [number, number, number, number],
    /** Class indices, or for multi-label datasets an n x C multi-hot matrix. */
    readonly labels: Int32Array | Float32Array,
    readonly files: string[],
  ) {}
}
