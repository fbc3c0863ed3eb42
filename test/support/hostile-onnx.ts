/**
 * ONNX models that ask for far more memory than their bytes: each puts one op whose output size
 * is a value (ConstantOfShape, Expand, Tile, Resize, Range) between the convolution and the pool
 * of the small float model, reduced back to one value per example so the graph stays valid.
 */
import { f32, floatModel, i64, int, ints, type NodeSpec, type TensorSpec } from '../fixtures/onnx/models.ts';

/** 2^28 values: 1 GiB of float32, twice the limit of one tensor. */
const HUGE = [1, 4, 8192, 8192];

/** `big` folded to [1, 4, 1, 1] and added to the features, so the op is on the cut's path. */
function around(nodes: NodeSpec[], initializers: TensorSpec[], reduceAxes = [2, 3]): Uint8Array {
  return floatModel({
    nodes: [
      ...nodes,
      { op: 'ReduceMean', name: 'fold', inputs: ['big'], outputs: ['folded'], attrs: [ints('axes', reduceAxes), int('keepdims', 1)] },
      { op: 'Add', name: 'join', inputs: ['r', 'folded'], outputs: ['joined'] },
    ],
    initializers,
  });
}

export const hostileOnnx: Record<string, { node: string; bytes: () => Uint8Array }> = {
  ConstantOfShape: {
    node: 'fill',
    bytes: () => around([{ op: 'ConstantOfShape', name: 'fill', inputs: ['huge_shape'], outputs: ['big'] }], [i64('huge_shape', [4], HUGE)]),
  },
  Expand: {
    node: 'spread',
    bytes: () => around([{ op: 'Expand', name: 'spread', inputs: ['one', 'huge_shape'], outputs: ['big'] }], [f32('one', [1], [1]), i64('huge_shape', [4], HUGE)]),
  },
  Tile: {
    node: 'tile',
    bytes: () => around([{ op: 'Tile', name: 'tile', inputs: ['r', 'repeats'], outputs: ['big'] }], [i64('repeats', [4], [1, 1, 1024, 1024])]),
  },
  Resize: {
    node: 'grow',
    bytes: () => around([{ op: 'Resize', name: 'grow', inputs: ['r', '', 'scales'], outputs: ['big'] }], [f32('scales', [4], [1, 1, 1024, 1024])]),
  },
  Range: {
    node: 'count',
    bytes: () => around(
      [
        { op: 'Range', name: 'count', inputs: ['start', 'limit', 'delta'], outputs: ['line'] },
        { op: 'Reshape', name: 'shape_up', inputs: ['line', 'as_4d'], outputs: ['big'] },
      ],
      [f32('start', [], [0]), f32('limit', [], [2 ** 28]), f32('delta', [], [1]), i64('as_4d', [4], [1, 1, 1, -1])],
      [3],
    ),
  },
};

/** A ConstantOfShape whose size is the image's largest value: nothing bounds it before running. */
export function dataSizedFill(): Uint8Array {
  return around(
    [
      { op: 'ReduceMax', name: 'peak', inputs: ['x'], outputs: ['peak'], attrs: [int('keepdims', 0)] },
      { op: 'Unsqueeze', name: 'as_list', inputs: ['peak'], outputs: ['peak1'], attrs: [ints('axes', [0])] },
      { op: 'Cast', name: 'as_int', inputs: ['peak1'], outputs: ['size'], attrs: [int('to', 7)] },
      { op: 'ConstantOfShape', name: 'fill_by_data', inputs: ['size'], outputs: ['line'] },
      { op: 'Reshape', name: 'shape_up', inputs: ['line', 'as_4d'], outputs: ['big'] },
    ],
    [i64('as_4d', [4], [1, 1, 1, -1])],
    [3],
  );
}

/** Expand and Tile to the tensor's own shape, as exporters write them: bounded, and imported. */
export function benignSizedOps(): Uint8Array {
  return around(
    [
      { op: 'Shape', name: 'own_shape', inputs: ['r'], outputs: ['r_shape'] },
      { op: 'Expand', name: 'same', inputs: ['r', 'r_shape'], outputs: ['expanded'] },
      { op: 'Tile', name: 'twice', inputs: ['expanded', 'repeats'], outputs: ['big'] },
    ],
    [i64('repeats', [4], [1, 1, 2, 2])],
  );
}
