// Convolutions with fed weights in ONNX Runtime's blocked channel layout (graph/ops/conv-blocked.ts)
// against the same convolutions as standard Conv nodes: forward values and both gradients, for each
// blocked form (dense, input narrower than a block, depthwise, grouped; stride 1 and 2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, tensor } from '../src/index.ts';
import { Parameter } from '../src/nn/parameter.ts';
import { compile, trace } from '../src/graph/trace.ts';
import { gradients } from '../src/autodiff/backward.ts';
import { setRuntimeOptions, runtimeOptions } from '../src/runtime/index.ts';
import { currentRuntime } from '../src/runtime/index.ts';
import { releaseSessions } from '../src/runtime/index.ts';

const values = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) * 0.5);

interface Case { name: string; c: number; o: number; k: number; stride: number; groups: number; size: number; padding?: number; bias?: boolean; block?: number }
const cases: Case[] = [
  { name: 'dense 3x3', c: 32, o: 32, k: 3, stride: 1, groups: 1, size: 10 },
  { name: 'dense 3x3 with a bias', c: 16, o: 32, k: 3, stride: 1, groups: 1, size: 9, bias: true },
  { name: 'dense 3x3 stride 2', c: 16, o: 32, k: 3, stride: 2, groups: 1, size: 12 },
  { name: 'stem 7x7 stride 2 (3 input channels)', c: 3, o: 16, k: 7, stride: 2, groups: 1, size: 16 },
  { name: 'dense 3x3 to fewer channels than a block (its input gradient reads them as they are)', c: 32, o: 8, k: 3, stride: 1, groups: 1, size: 8 },
  { name: 'depthwise 3x3', c: 32, o: 32, k: 3, stride: 1, groups: 32, size: 9 },
  { name: 'depthwise 3x3 stride 2', c: 16, o: 16, k: 3, stride: 2, groups: 16, size: 10 },
  { name: 'depthwise 5x5 (MNASNet)', c: 48, o: 48, k: 5, stride: 1, groups: 48, size: 8 },
  { name: 'depthwise 5x5 stride 2 (MNASNet)', c: 48, o: 48, k: 5, stride: 2, groups: 48, size: 8 },
  { name: 'depthwise 5x5 stride 2, odd size', c: 32, o: 32, k: 5, stride: 2, groups: 32, size: 7 },
  { name: 'depthwise 3x3 stride 2 on 2x2 maps', c: 32, o: 32, k: 3, stride: 2, groups: 32, size: 2 },
  { name: 'depthwise 5x5 on 2x2 maps', c: 32, o: 32, k: 5, stride: 1, groups: 32, size: 2 },
  { name: 'grouped 3x3, 8 channels per group (RegNet), an even number of groups', c: 32, o: 32, k: 3, stride: 1, groups: 4, size: 9 },
  { name: 'grouped 3x3, 8 per group, an odd number of groups (the last block half zeros), with a bias', c: 24, o: 24, k: 3, stride: 1, groups: 3, size: 8, bias: true },
  { name: 'grouped 3x3 stride 2, 8 per group, odd groups, odd size', c: 40, o: 40, k: 3, stride: 2, groups: 5, size: 9 },
  { name: 'grouped 3x3 stride 2, 8 per group, even size (RegNet\'s first block of a stage)', c: 48, o: 48, k: 3, stride: 2, groups: 6, size: 10 },
  { name: 'grouped 1x1 stride 2', c: 32, o: 32, k: 1, stride: 2, groups: 4, size: 7 },
  { name: 'grouped 2x2 stride 2, no padding', c: 16, o: 16, k: 2, stride: 2, groups: 2, size: 8 },
  { name: 'grouped 5x5 stride 3', c: 16, o: 16, k: 5, stride: 3, groups: 2, size: 11 },
  { name: 'grouped 3x3 stride 2 without padding', c: 16, o: 16, k: 3, stride: 2, groups: 2, size: 9, padding: 0 },
  { name: 'grouped 1x1 stride 2 with padding 1', c: 16, o: 16, k: 1, stride: 2, groups: 2, size: 8, padding: 1 },
  { name: 'grouped 3x3, 16 channels per group', c: 48, o: 48, k: 3, stride: 1, groups: 3, size: 7, block: 16 },
];

function build({ c, o, k, stride, groups, size, padding, bias }: Case) {
  const w = new Parameter(values(o * (c / groups) * k * k, 1), [o, c / groups, k, k]);
  const x = new Parameter(values(2 * c * size * size, 2), [2, c, size, size]);
  const b = bias ? new Parameter(values(o, 4), [o]) : null;
  const y = F.conv2d(x, w, b, { stride, padding: padding ?? (k - 1) >> 1, groups });
  const loss = F.sum(F.mul(y, tensor(values(y.size, 3), y.shape)));
  return { w, x, y, loss };
}

async function run(kase: Case, blocked: boolean) {
  const saved = runtimeOptions().blockedLayout;
  setRuntimeOptions({ blockedLayout: blocked });
  try {
    const { w, x, y, loss } = build(kase);
    const out = await y.floats();
    await loss.backward();
    return { y: out, dw: w.grad!.value as Float32Array, dx: x.grad!.value as Float32Array };
  } finally {
    setRuntimeOptions({ blockedLayout: saved });
    await releaseSessions();
  }
}

function assertClose(got: Float32Array, want: Float32Array, what: string) {
  assert.equal(got.length, want.length);
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) <= 1e-5 * Math.max(1, Math.abs(want[i])), `${what}[${i}]: ${got[i]} vs ${want[i]}`);
}

for (const kase of cases) {
  test(`blocked-layout convolution matches the standard one: ${kase.name}`, async (t) => {
    const block = await currentRuntime().blockedLayoutBlockSize();
    if (block === 0) return t.skip('this CPU has no blocked convolution kernels in ONNX Runtime');
    if (kase.block !== undefined && kase.block !== block) return t.skip(`a case for blocks of ${kase.block} channels`);
    // The blocked graph really uses the blocked operators (else this test would compare a path with itself).
    const { w, x, loss } = build(kase);
    const grads = gradients(loss, (t) => t === w || t === x);
    const model = new TextDecoder('latin1').decode(compile(trace([loss, grads.get(w)!, grads.get(x)!]), { blockSize: block }));
    assert.ok(model.includes('com.microsoft.nchwc'), 'no blocked-layout node in the compiled graph');
    const standard = await run(kase, false);
    const blocked = await run(kase, true);
    assertClose(blocked.y, standard.y, 'y');
    assertClose(blocked.dx, standard.dx, 'dx');
    assertClose(blocked.dw, standard.dw, 'dw');
  });
}

// A frozen grouped weight is baked: its groups merged into whole blocks by nodes that ONNX Runtime
// folds into a constant (a standard Conv where the groups fill whole blocks, else the blocked form).
for (const kase of [cases.find((c) => c.groups === 4)!, cases.find((c) => c.groups === 3 && c.bias)!]) {
  test(`a baked grouped weight gives the standard convolution's values: ${kase.name}`, async () => {
    const forward = async (blocked: boolean) => {
      const saved = runtimeOptions().blockedLayout;
      setRuntimeOptions({ blockedLayout: blocked });
      try {
        const { c, o, k, groups, size, stride, bias } = kase;
        const w = new Parameter(values(o * (c / groups) * k * k, 1), [o, c / groups, k, k], false);
        const b = bias ? new Parameter(values(o, 4), [o], false) : null;
        return await F.conv2d(tensor(values(2 * c * size * size, 2), [2, c, size, size]), w, b, { stride, padding: 1, groups }).floats();
      } finally {
        setRuntimeOptions({ blockedLayout: saved });
        await releaseSessions();
      }
    };
    assertClose(await forward(true), await forward(false), 'y');
  });
}
