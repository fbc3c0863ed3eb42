// Input batches lent to one run (Runtime.withFeed) move to the session's worker thread instead of
// being copied. These tests check that the caller cannot read a lent batch after its run, that
// its outputs equal those of a copied batch, and that every way a run can end (done, failed,
// refused, its worker gone, never started) gives the buffer back or counts it as lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, nn, tensor, constant, manualSeed, type Tensor } from '../src/index.ts';
import { Runtime, RuntimeBusyError, SessionPool, WorkerCrashError } from '../src/runtime/index.ts';
import { FeedBuffers } from '../src/runtime/feed-buffers.ts';
import { compile, trace } from '../src/graph/trace.ts';
import * as ort from 'onnxruntime-node';

const SHAPE = [4, 3, 16, 16];
const SIZE = 4 * 3 * 16 * 16;

function convNet(): nn.Module {
  manualSeed(7);
  const net = new nn.Sequential(
    new nn.Conv2d(3, 8, 3, { padding: 1, bias: false }), new nn.BatchNorm2d(8), new nn.ReLU(),
    new nn.Conv2d(8, 16, 3, { stride: 2, padding: 1 }), new nn.ReLU(),
    new nn.AdaptiveAvgPool2d(1), new nn.Flatten(), new nn.Linear(16, 3),
  );
  net.eval();
  return net;
}

const fillBatch = (x: Float32Array, phase = 0) => x.forEach((_, i) => { x[i] = Math.sin(i * 0.37 + phase); });

/** y = sigmoid(y W) `depth` times: a graph that keeps a worker busy for a while. */
function matmulChain(n: number, depth: number): Tensor {
  const w = constant(Float32Array.from({ length: n * n }, (_, i) => Math.cos(i) / Math.sqrt(n)), [n, n]);
  let y = tensor(Float32Array.from({ length: n * n }, (_, i) => Math.sin(i)), [n, n]);
  for (let i = 0; i < depth; i++) y = F.sigmoid(F.matmul(y, w));
  return F.sum(y);
}

for (const executor of ['workers', 'inline'] as const) {
  test(`${executor}: a lent batch cannot be read by the caller after its run, and its outputs equal a copied batch's`, async () => {
    const rt = new Runtime({ executor, threads: 1 });
    try {
      await rt.run(async () => {
        const net = convNet();
        const copied = new Float32Array(SIZE);
        fillBatch(copied);
        const expected = await net.forward(tensor(copied, SHAPE)).floats();
        let written: Float32Array | null = null;
        let input: Tensor | null = null;
        const out = await rt.withFeed(SHAPE, (x) => { fillBatch(x); written = x; }, (x) => { input = x; return net.forward(x).floats(); });
        assert.deepEqual(out, expected);
        assert.equal(written!.length, 0, 'the view the caller filled is detached: it reads as empty');
        assert.equal(written!.buffer.byteLength, 0);
        await assert.rejects(input!.data(), /was a lent input \(Runtime\.withFeed\): its one run has taken its values/);
        await assert.rejects(net.forward(input!).floats(), /was a lent input/);
        assert.equal(rt.feedBuffers.lent, 0);
        assert.equal(rt.feedBuffers.waiting, 1, 'the buffer came back to be lent again');
        // The next batch reuses that buffer: the old contents are overwritten, not mixed in.
        const second = new Float32Array(SIZE);
        fillBatch(second, 1);
        const expectedSecond = await net.forward(tensor(second, SHAPE)).floats();
        assert.deepEqual(await rt.withFeed(SHAPE, (x) => fillBatch(x, 1), (x) => net.forward(x).floats()), expectedSecond);
        assert.equal(rt.feedBuffers.waiting, 1);
      });
    } finally {
      await rt.close();
    }
  });
}

test('a lent batch whose run is aborted before it starts comes back unsent', async () => {
  const rt = new Runtime({ executor: 'workers', threads: 1 });
  try {
    await rt.run(async () => {
      const net = convNet();
      const controller = new AbortController();
      controller.abort();
      await assert.rejects(rt.withFeed(SHAPE, fillBatch, async (x) => {
        controller.signal.throwIfAborted();
        return net.forward(x).floats();
      }), { name: 'AbortError' });
      assert.deepEqual([rt.feedBuffers.lent, rt.feedBuffers.waiting], [0, 1]);
      // An input kept past its withFeed without a run is spent too: its buffer is lent again.
      let kept: Tensor | null = null;
      await rt.withFeed(SHAPE, fillBatch, async (x) => { kept = x; });
      await assert.rejects(net.forward(kept!).floats(), /was a lent input/);
      assert.deepEqual([rt.feedBuffers.lent, rt.feedBuffers.waiting], [0, 1]);
      assert.equal((await rt.withFeed(SHAPE, fillBatch, (x) => net.forward(x).floats())).length, 12);
      assert.deepEqual([rt.feedBuffers.lent, rt.feedBuffers.waiting], [0, 1]);
    });
  } finally {
    await rt.close();
  }
});

test('a lent buffer comes back with a run that fails in the worker or is refused by a full pool, and is counted lost with a worker that dies', async () => {
  const pool = new SessionPool({ workers: 1, maxQueuedRuns: 0 });
  const buffers = new FeedBuffers(2);
  try {
    const tr = trace([F.sum(F.sigmoid(tensor(new Float32Array(SIZE), SHAPE)))]);
    const session = await pool.createSession(compile(tr), { threads: 1, provider: 'cpu', memoryArena: true, memoryPattern: false, profilePrefix: null }, 'a sum');
    let sentAt = -1;
    const runLent = (dims: number[]) => buffers.withFeed(SHAPE, fillBatch, (x) => {
      const view = x.value as Float32Array;
      const run = session.run({ in_0: new ort.Tensor('float32', view, dims) }, [buffers.takeLease(x)!]);
      sentAt = view.length;
      return run;
    });
    const sum = (await runLent(SHAPE)).out_0.data as Float32Array;
    assert.equal(sentAt, 0, 'the batch left with the run (moved to the worker, not copied): the view was detached as it was sent');
    assert.ok(Number.isFinite(sum[0]));
    assert.deepEqual([buffers.lent, buffers.waiting], [0, 1]);
    // Dimensions the graph refuses: ONNX Runtime fails the run in the worker, which sends the buffer back.
    await assert.rejects(runLent([2, 6, 16, 16]), /Got invalid dimensions|dimension/i);
    assert.deepEqual([buffers.lent, buffers.waiting], [0, 1]);
    // A long run holds the one worker and no run may wait: the next is refused before it is sent.
    const long = compile(trace([matmulChain(256, 32)]));
    const chain = await pool.createSession(long, { threads: 1, provider: 'cpu', memoryArena: true, memoryPattern: false, profilePrefix: null }, 'a chain');
    const busy = chain.run({ in_0: new ort.Tensor('float32', Float32Array.from({ length: 256 * 256 }, (_, i) => Math.sin(i)), [256, 256]) });
    await assert.rejects(runLent(SHAPE), RuntimeBusyError);
    assert.deepEqual([buffers.lent, buffers.waiting], [0, 1]);
    await busy;
    // The worker exits before it sees the run: the buffer went with it.
    pool.exitWorker(0);
    await assert.rejects(runLent(SHAPE), WorkerCrashError);
    assert.deepEqual([buffers.lent, buffers.waiting], [0, 0]);
    assert.deepEqual((await runLent(SHAPE)).out_0.data, sum, 'a fresh buffer and a fresh worker give the same sum');
    assert.deepEqual([buffers.lent, buffers.waiting], [0, 1]);
  } finally {
    await pool.close();
  }
});
