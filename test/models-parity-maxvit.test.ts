// torchvision's MaxViT against torchvision: the same state-dict keys, shapes and order (buffers
// included), and the same logits for a deterministic input with deterministic weights. maxvit_t
// runs at 224, the smallest input whose maps all split into its 7 x 7 partitions; the
// MaxVit class in a small configuration ("maxvit-small", torchvision's constructor arguments in
// the golden's build_args) runs at batch 2. Goldens: scripts/make_zoo_goldens.py.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';

import { models, nn, tensor } from '../src/index.ts';
import { skipInit } from '../src/nn/init.ts';
import { relativePositionIndex } from '../src/models/relative-position.ts';
import type { StateDict } from '../src/nn/state-dict.ts';
import { deterministicInput, deterministicStateDict } from './support/deterministic.ts';
import { assertLogits, assertSameKeys, keysOf, loadZooGolden, type ZooGolden } from './support/zoo-golden.ts';
import { maxVitFromTorchArgs, type TorchMaxVitArgs } from './support/maxvit.ts';

/** Allowed error, relative to the largest |logit| of the golden. */
const RTOL = 1e-5;

/** The index buffers graft computes must be the ones the deterministic state dict (checked against torchvision's by the golden script) holds. */
function assertOwnIndices(own: StateDict, loaded: StateDict): number {
  let n = 0;
  for (const [k, v] of own) {
    if (!k.endsWith('relative_position_index')) continue;
    assert.deepEqual(v.data, loaded.get(k)!.data, `${k} differs from torchvision's`);
    n++;
  }
  return n;
}

async function parity(name: string, m: models.MaxVit, golden: ZooGolden): Promise<number> {
  assertSameKeys(name, m.stateDict(), golden);
  const sd = deterministicStateDict(keysOf(m.stateDict()));
  assert.ok(assertOwnIndices(m.stateDict(), sd) > 0, 'the network holds relative position indices');
  m.loadStateDict(sd);
  m.eval();
  const shape = golden.input_shape!;
  const out = await m.forward(tensor(deterministicInput(shape), shape)).data();
  return assertLogits(name, out, golden, RTOL);
}

test(`maxvit_t matches torchvision at 224: state-dict keys, shapes and buffers, logits within ${RTOL} of the logit scale`, async (t) => {
  const golden = loadZooGolden('maxvit_t');
  assert.deepEqual(golden.input_shape, [2, 3, 224, 224]);
  const m = await skipInit(() => models.maxvit_t());
  const relative = await parity('maxvit_t', m, golden);
  t.diagnostic(`maxvit_t: max |graft - torchvision| = ${relative.toExponential(2)} of max |logit| ${golden.max_abs}`);
});

test(`the MaxVit class in a small configuration matches torchvision's, logits within ${RTOL} of the logit scale`, async (t) => {
  const golden = loadZooGolden('maxvit-small') as ZooGolden & { build_args: TorchMaxVitArgs };
  const m = skipInit(() => maxVitFromTorchArgs(golden.build_args));
  const relative = await parity('maxvit-small', m, golden);
  t.diagnostic(`maxvit-small: max |graft - torchvision| = ${relative.toExponential(2)} of max |logit| ${golden.max_abs}`);
});

test('stochastic depth probabilities grow layer by layer from 0 as torchvision spaces them (numpy.linspace), in maxvit_t and the small configuration', async () => {
  const cases: [string, models.MaxVit][] = [['maxvit_t', await skipInit(() => models.maxvit_t())]];
  const small = loadZooGolden('maxvit-small') as ZooGolden & { build_args: TorchMaxVitArgs };
  cases.push(['maxvit-small', skipInit(() => maxVitFromTorchArgs(small.build_args))]);
  for (const [name, m] of cases) {
    const golden = loadZooGolden(name) as ZooGolden & { stochastic_depth: [string, number][] };
    const ours = [...m.namedModules()].filter(([, sub]) => sub instanceof nn.StochasticDepth).map(([k, sub]) => [k, (sub as nn.StochasticDepth).p]);
    assert.ok(golden.stochastic_depth.length > 0);
    assert.deepEqual(ours, golden.stochastic_depth, name);
  }
});

test('relative position index: entry (i, j) names the offset from position j to i in a (2s - 1)^2 table', () => {
  const index = relativePositionIndex(2);
  // Positions (0,0), (0,1), (1,0), (1,1); offsets (dy + 1) * 3 + dx + 1.
  assert.deepEqual(Array.from(index, Number), [4, 3, 1, 0, 5, 4, 2, 1, 7, 6, 4, 3, 8, 7, 5, 4]);
});

test('a MaxVit refuses an input whose block maps do not divide by the partition size, naming the sizes, or that is not square', async () => {
  await assert.rejects(models.maxvit_t({ imageSize: 200 }),
    /Expected an input whose block maps divide by the partition size 7 \(block 0 gets 50 x 50; blocks get 50 x 50, 25 x 25, 13 x 13, 7 x 7\) for inputSize but received 200 x 200$/);
  assert.throws(() => new models.MaxVit({ inputSize: [224, 448], stemChannels: 64, partitionSize: 7, blockChannels: [64], blockLayers: [1], headDim: 32, stochasticDepthProb: 0 }),
    /Expected a square input \(grid attention takes its partitions from the height\) for inputSize but received 224 x 448$/);
  const m = await skipInit(() => models.maxvit_t());
  assert.throws(() => m.forward(tensor(new Float32Array(3 * 112 * 112), [1, 3, 112, 112])), /expected \[batch, channels, 56, 56\] maps/);
});

afterEach(() => (globalThis as { gc?: () => void }).gc?.());
