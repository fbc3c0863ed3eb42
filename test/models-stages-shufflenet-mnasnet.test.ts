// The transfer-learning view of ShuffleNetV2 and MNASNet: stages that compose to the forward pass,
// own every parameter exactly once (what --unfreeze N and two-stage training count on), and a head
// named as torchvision names it that resetClassifier replaces.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { models, tensor } from '../src/index.ts';
import { runStages, type Staged } from '../src/models/stages.ts';
import { deterministicInput, deterministicStateDict } from './support/deterministic.ts';

const CASES = [['shufflenet_v2_x0_5', 'fc'], ['mnasnet0_5', 'classifier.1']] as const;
const SHAPE = [1, 3, 32, 32];

for (const [arch, head] of CASES) {
  test(`${arch}: stages compose to the forward pass, own every parameter once, and end with the ${head} head`, async () => {
    const m = (await (models as unknown as Record<string, () => Promise<Staged>>)[arch]()) as Staged;
    m.loadStateDict(deterministicStateDict([...m.stateDict()].map(([k, v]) => [k, [...v.shape]])));
    m.eval();
    const x = tensor(deterministicInput(SHAPE), SHAPE);
    const stages = m.stages();
    const [whole, staged] = [await m.forward(x).data(), await runStages(stages, x).data()];
    assert.deepEqual(Array.from(staged), Array.from(whole));

    assert.deepEqual(stages.slice(-2).map((s) => s.name), ['pool', 'head']);
    const owners = new Map<unknown, string>();
    for (const s of stages) for (const mod of s.modules) for (const p of mod.parameters()) {
      assert.ok(!owners.has(p), `a parameter is in both ${owners.get(p)} and ${s.name}`);
      owners.set(p, s.name);
    }
    const names = [...m.namedParameters()];
    assert.equal(owners.size, names.length, 'every parameter belongs to a stage');
    for (const [name, p] of names) if (name.startsWith(`${head}.`)) assert.equal(owners.get(p), 'head', name);

    m.resetClassifier(5);
    assert.equal(m.numClasses, 5);
    assert.deepEqual(m.forward(x).shape, [1, 5]);
    assert.ok([...m.stateDict().keys()].includes(`${head}.weight`));
  });
}
