// The concatenating families against torchvision (AlexNet, DenseNet, GoogLeNet, Inception v3,
// SqueezeNet): the same state-dict keys and shapes, and the same logits for a deterministic input
// with deterministic weights (goldens from scripts/make_zoo_goldens.py). Plus what these
// architectures add: Inception v3's auxiliary classifier, `transform_input`, and what their
// stages, heads and train-mode outputs promise.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';

import { models, tensor, type Tensor } from '../src/index.ts';
import { runStages } from '../src/models/stages.ts';
import { skipInit } from '../src/nn/init.ts';
import { deterministicInput, deterministicStateDict } from './support/deterministic.ts';
import { keyProblems, keysOf, loadZooGolden, worstLogit, type LogitsGolden } from './support/zoo-golden.ts';

const ARCHS = [
  'alexnet', 'densenet121', 'densenet161', 'densenet169', 'densenet201',
  'googlenet', 'inception_v3', 'squeezenet1_0', 'squeezenet1_1',
] as const;
/** Allowed error, relative to the largest |logit| of the golden. */
const RTOL = 1e-5;

type Net = Awaited<ReturnType<(typeof models)[(typeof ARCHS)[number]]>>;

async function deterministic(arch: (typeof ARCHS)[number]): Promise<Net> {
  // Nothing drawn at build time: the deterministic state dict replaces every value.
  const m = await skipInit(() => models[arch]());
  m.loadStateDict(deterministicStateDict(keysOf(m.stateDict())));
  m.eval();
  return m;
}

async function assertLogits(what: string, y: Tensor, golden: LogitsGolden, t: { diagnostic(msg: string): void }): Promise<void> {
  const w = worstLogit(await y.data() as Float32Array, golden);
  t.diagnostic(`${what}: max |graft - torchvision| = ${w.err.toExponential(3)} (${(w.err / golden.max_abs).toExponential(2)} of max |logit| ${golden.max_abs})`);
  assert.ok(w.err <= RTOL * golden.max_abs,
    `${what}: logits differ from torchvision by ${w.err} at [${w.row}, ${w.col}] (graft ${w.got}, torchvision ${w.want}); allowed ${RTOL} x ${golden.max_abs}`);
}

for (const arch of ARCHS) {
  test(`${arch} matches torchvision: state-dict keys and shapes, and logits`, async (t) => {
    const golden = loadZooGolden(arch);
    const m = await skipInit(() => models[arch]());
    const problems = keyProblems(keysOf(m.stateDict()), golden.keys);
    assert.ok(problems.length === 0, `${arch}: state dict differs from torchvision's\n  ${problems.join('\n  ')}`);
    const d = await deterministic(arch);
    const x = tensor(deterministicInput(golden.input_shape), golden.input_shape);
    const y = d.forward(x);
    await assertLogits(arch, y, golden, t);
    // The stages compose to the forward pass (what --unfreeze and the feature cache rely on):
    // the same graph, so the same values bit for bit.
    assert.deepEqual(await runStages(d.stages(), x).data(), await y.data(), `${arch}: stages differ from forward`);
  });
}

test('inception_v3 AuxLogits matches torchvision on the 17x17 map it is built for', async (t) => {
  const golden = loadZooGolden('inception_v3');
  const m = await deterministic('inception_v3');
  assert.ok(golden.aux?.length === 1 && m.AuxLogits);
  const [aux] = golden.aux;
  await assertLogits('inception_v3 AuxLogits', m.AuxLogits.forward(tensor(deterministicInput(aux.input_shape), aux.input_shape)), aux, t);
});

afterEach(() => (globalThis as { gc?: () => void }).gc?.());
