import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadOnnxBackbone } from '../src/models/onnx-backbone.ts';
import { dequantize } from '../src/models/dequantize.ts';
import { OnnxImportError } from '../src/formats/onnx-model.ts';
import { tensor } from '../src/graph/tensor.ts';
import { floatModel, modelBytes, f32, int } from './fixtures/onnx/models.ts';
import { ModelProto } from '../src/graph/onnx-schema.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const tinyTorch = path.join(here, 'fixtures', 'onnx', 'tiny_convnet_op12.onnx');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'graft-onnx-errors-'));

function write(name: string, bytes: Uint8Array): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, bytes);
  return file;
}

/** Rejects with an OnnxImportError whose message is exactly `message` (with the file's path filled in). */
async function rejectsWith(promise: Promise<unknown>, message: (file: string) => string, file: string): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof OnnxImportError, `expected an OnnxImportError, got ${e}`);
    assert.equal(e.message, message(file));
    return true;
  });
}

test('a truncated protobuf is a clear error naming the file', async () => {
  const whole = fs.readFileSync(tinyTorch);
  const file = write('truncated.onnx', whole.subarray(0, 3000));
  await rejectsWith(loadOnnxBackbone(file), (f) => `Cannot import ONNX model "${f}": not a valid ONNX protobuf, the file is truncated or corrupt (index out of range; 3000 bytes read)`, file);
});

test('garbage and empty files are clear errors', async () => {
  const text = write('notes.onnx', new TextEncoder().encode('this is not an onnx model\n'));
  await assert.rejects(loadOnnxBackbone(text), (e: Error) => e instanceof OnnxImportError && e.message.startsWith(`Cannot import ONNX model "${text}": `));
  const empty = write('empty.onnx', new Uint8Array(0));
  await rejectsWith(loadOnnxBackbone(empty), (f) => `Cannot import ONNX model "${f}": the file holds no ONNX graph with nodes (0 bytes); is it an ONNX model?`, empty);
  const missing = path.join(tmp, 'missing.onnx');
  await rejectsWith(loadOnnxBackbone(missing), (f) => `Cannot import ONNX model "${f}": no such file`, missing);
});

test('a cycle is refused, naming a node on it', async () => {
  const file = write('cycle.onnx', floatModel({
    nodes: [
      { op: 'Add', name: 'loop_a', inputs: ['r', 'loop_b_out'], outputs: ['loop_a_out'] },
      { op: 'Relu', name: 'loop_b', inputs: ['loop_a_out'], outputs: ['loop_b_out'] },
    ],
  }));
  await rejectsWith(loadOnnxBackbone(file), (f) => `Cannot import ONNX model "${f}": the graph has a cycle through node "loop_a" (Add): "loop_a" -> "loop_b" -> "loop_a"`, file);
});

test('an input nothing produces is refused, naming the node and the tensor', async () => {
  const file = write('dangling.onnx', floatModel({ nodes: [{ op: 'Add', name: 'adds_ghost', inputs: ['r', 'ghost'], outputs: ['sum'] }] }));
  await rejectsWith(loadOnnxBackbone(file), (f) => `Cannot import ONNX model "${f}": node "adds_ghost" (Add) reads "ghost", which no node, initializer or graph input produces`, file);
});

test('absurd initializer dims are refused before anything is allocated', async () => {
  const bytes = floatModel({ nodes: [{ op: 'Mul', name: 'scale', inputs: ['r', 'huge'], outputs: ['scaled'] }], initializers: [f32('huge', [4], [1, 2, 3, 4])] });
  // Rewrite the dims of "huge" to a petabyte-sized claim while it still holds 16 bytes.
  const model = ModelProto.toObject(ModelProto.decode(bytes), { longs: String }) as { graph: { initializer: { name: string; dims: string[] }[] } };
  model.graph.initializer.find((t) => t.name === 'huge')!.dims = ['1000000000', '1000000000'];
  const file = write('absurd.onnx', ModelProto.encode(ModelProto.fromObject(model)).finish());
  await rejectsWith(loadOnnxBackbone(file), (f) => `Cannot import ONNX model "${f}": initializer "huge" claims dims [1000000000,1000000000] (1000000000000000000 float32 values, 4000000000000000000 bytes) but holds 16 bytes`, file);

  const short = floatModel({ nodes: [{ op: 'Mul', name: 'scale', inputs: ['r', 'short'], outputs: ['scaled'] }], initializers: [{ ...f32('short', [2], [1, 2]), dims: [3] }] });
  const shortFile = write('short.onnx', short);
  await rejectsWith(loadOnnxBackbone(shortFile), (f) => `Cannot import ONNX model "${f}": initializer "short" claims dims [3] (3 float32 values, 12 bytes) but holds 8 bytes`, shortFile);
});

test('an op graft cannot differentiate runs frozen; dequantize() refuses it naming the op and the node', async () => {
  const file = write('tanh.onnx', floatModel({ nodes: [{ op: 'Tanh', name: 'squash', inputs: ['r'], outputs: ['t'] }] }));
  const b = await loadOnnxBackbone(file);
  const x = tensor(new Float32Array(2 * 3 * 8 * 8).fill(0.5), [2, 3, 8, 8]);
  assert.deepEqual((await b.features(x).floats()).length, 8);
  assert.throws(() => dequantize(b).features(x), (e: Error) => {
    assert.ok(e instanceof OnnxImportError);
    assert.match(e.message, new RegExp(`^Cannot import ONNX model "${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}": node "squash" \\(Tanh\\) has no graft equivalent; dequantize\\(\\) converts QuantizeLinear, `));
    return true;
  });
});

test('an op ONNX Runtime does not know is a clear error at load, not a crash', async () => {
  const file = write('unknown-op.onnx', floatModel({ nodes: [{ op: 'Frobnicate', name: 'mystery', domain: 'com.example', inputs: ['r'], outputs: ['m'] }] }));
  await assert.rejects(loadOnnxBackbone(file), (e: Error) => {
    assert.ok(e instanceof OnnxImportError);
    assert.match(e.message, /ONNX Runtime cannot run the graph cut at "features" after conversion to opset 17: .*Frobnicate/);
    return true;
  });
});

test('bad cut names, models without a head, and ops whose meaning changed are refused clearly', async () => {
  await rejectsWith(loadOnnxBackbone(`${tinyTorch}#nope`), (f) => `Cannot import ONNX model "${f}": cannot cut at "nope": it is not a tensor of this graph; name a tensor a node produces (the last ones are "/Gather_output_0", "/Unsqueeze_output_0", "/Constant_1_output_0", "/Concat_output_0", "/Reshape_output_0", "logits")`, tinyTorch);
  const headless = write('headless.onnx', modelBytes({ nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }] }));
  await assert.rejects(loadOnnxBackbone(headless), /no Gemm or MatMul leads to output "y", so there is no default place to cut; name a tensor after "#"/);
  const upsample = write('upsample.onnx', modelBytes({
    opset: 9,
    nodes: [
      { op: 'Upsample', name: 'up', inputs: ['x', 'scales'], outputs: ['u'] },
      { op: 'Flatten', inputs: ['u'], outputs: ['f'], attrs: [int('axis', 1)] },
      { op: 'MatMul', inputs: ['f', 'w'], outputs: ['y'] },
    ],
    initializers: [f32('scales', [4], [1, 1, 2, 2]), f32('w', [768, 2], new Array(1536).fill(0.01))],
  }));
  await rejectsWith(loadOnnxBackbone(upsample), (f) => `Cannot import ONNX model "${f}": node "up" (Upsample) cannot be converted from opset 9 to opset 17, the version graft emits: its coordinate convention changed at opset 11; re-export the model at opset 11 or later`, upsample);
});

test('an absurd input size is refused before the probe allocates it', async () => {
  const file = write('giant-input.onnx', modelBytes({
    input: { name: 'x', shape: ['N', 3, 100000, 100000] },
    nodes: [{ op: 'Flatten', inputs: ['x'], outputs: ['f'], attrs: [int('axis', 1)] }, { op: 'MatMul', inputs: ['f', 'w'], outputs: ['y'] }],
    initializers: [f32('w', [1, 1], [1])],
  }));
  await rejectsWith(loadOnnxBackbone(file), (f) => `Cannot import ONNX model "${f}": input "x" of shape [N,3,100000,100000] holds 30000000000 values per example; graft backbones take at most 134217728`, file);
});
