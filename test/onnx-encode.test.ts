// graph/onnx-encode.ts joins separately encoded parts of a ModelProto: the result must decode to
// what protobufjs's own encoding of the whole message decodes to, field for field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';

import { ModelProto } from '../src/graph/onnx-schema.ts';
import { encodeModel } from '../src/graph/onnx-encode.ts';

const floats = (values: number[]) => new Uint8Array(new Float32Array(values).buffer);
const big = new Float32Array(300_000).map((_, i) => Math.sin(i));

const model = {
  ir_version: 8,
  opset_import: [{ domain: '', version: 17 }],
  producer_name: 'graft',
  metadata_props: [{ key: 'classes', value: '["a","b"]' }],
  graph: {
    name: 'g',
    node: [
      { name: 'add', op_type: 'Add', input: ['x', 'w'], output: ['y'], attribute: [] },
      { name: 'mul', op_type: 'Mul', input: ['y', 'f'], output: ['z'], attribute: [] },
      { name: 'sum', op_type: 'ReduceSum', input: ['big'], output: ['s'], attribute: [{ name: 'keepdims', type: 2, i: 0 }] },
    ],
    initializer: [
      { name: 'w', dims: [3], data_type: 1, raw_data: floats([1, 2, 3]) },
      { name: 'empty', dims: [0], data_type: 1, raw_data: new Uint8Array(0) },
      { name: 'f', dims: [3], data_type: 1, float_data: [4, 5, 6] },
      { name: 'big', dims: [big.length], data_type: 1, raw_data: new Uint8Array(big.buffer) },
    ],
    input: [{ name: 'x', type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_value: 3 }] } } } }],
    output: [
      { name: 'z', type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_value: 3 }] } } } },
      { name: 's', type: { tensor_type: { elem_type: 1, shape: { dim: [] } } } },
    ],
  },
};

const decoded = (bytes: Uint8Array) => ModelProto.toObject(ModelProto.decode(bytes), { longs: String, bytes: String });

test('encodeModel decodes to what protobufjs encodes, with raw bytes large and empty and typed-field tensors', () => {
  const reference = ModelProto.encode(ModelProto.fromObject(model)).finish();
  const joined = encodeModel(model);
  assert.equal(joined.length, reference.length);
  assert.deepEqual(decoded(joined), decoded(reference));
});

test('ONNX Runtime runs an encoded model and reads its initializers', async () => {
  const session = await ort.InferenceSession.create(encodeModel(model));
  const out = await session.run({ x: new ort.Tensor('float32', new Float32Array([10, 20, 30]), [3]) });
  assert.deepEqual([...out.z.data as Float32Array], [44, 110, 198]);
  const want = big.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs((out.s.data as Float32Array)[0] - want) < 1e-2, `sum ${(out.s.data as Float32Array)[0]} against ${want}`);
  await session.release();
});
