import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nn, type Tensor } from '../src/index.ts';
import type { StateDict } from '../src/nn/state-dict.ts';

/** A conv, a batch norm (whose num_batches_tracked is int64) and a linear head. */
class Small extends nn.Module {
  conv = new nn.Conv2d(3, 4, 3);
  bn = new nn.BatchNorm2d(4);
  fc = new nn.Linear(4, 2);
  forward(x: Tensor): Tensor {
    return this.fc.forward(this.bn.forward(this.conv.forward(x)));
  }
}

function stateOf(model: nn.Module): StateDict {
  return new Map(model.stateDict());
}

test('a dtype mismatch is reported as one, naming the key and both dtypes', () => {
  const sd = stateOf(new Small());
  sd.set('bn.num_batches_tracked', { dtype: 'float32', shape: [], data: new Float32Array(1) });
  assert.throws(() => new Small().loadStateDict(sd, { source: 'small.pth' }), {
    name: 'StateDictError',
    message: 'Error loading state dict from small.pth:\n  dtype mismatch for bn.num_batches_tracked: the model has int64, small.pth has float32',
  });
  const weight = sd.get('fc.weight')!;
  sd.set('fc.weight', { dtype: 'int64', shape: weight.shape, data: new BigInt64Array(weight.data.length) });
  const model = new Small();
  const before = (model.fc.weight.value as Float32Array).slice();
  const report = model.loadStateDict(sd, { strict: false });
  assert.deepEqual(report.dtypeMismatches, [
    { key: 'bn.num_batches_tracked', expected: 'int64', received: 'float32' },
    { key: 'fc.weight', expected: 'float32', received: 'int64' },
  ]);
  assert.deepEqual(report.shapeMismatches, []);
  assert.deepEqual(model.fc.weight.value, before, 'a mismatched entry is never loaded');
});

test('shape mismatches still name the key and both shapes', () => {
  const sd = stateOf(new Small());
  sd.set('fc.bias', { dtype: 'float32', shape: [3], data: new Float32Array(3) });
  assert.throws(() => new Small().loadStateDict(sd), {
    message: 'Error loading state dict from the state dict:\n  shape mismatch for fc.bias: the model has [2], the state dict has [3]',
  });
});
