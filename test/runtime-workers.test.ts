// The 'workers' executor runs ONNX Runtime sessions in worker threads behind the same seam as
// inline sessions. These tests check that it computes the same bytes, keeps the event loop free
// while a graph runs, bounds its queue, releases and stops its threads, and survives a worker
// that dies mid-run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, nn, optim, tensor, constant, labels, manualSeed, type Tensor } from '../src/index.ts';
import { Runtime, RuntimeBusyError, SessionPool, WorkerCrashError, backward } from '../src/runtime/index.ts';
import { compile, trace } from '../src/graph/trace.ts';
import * as ort from 'onnxruntime-node';

function convNet(): nn.Module {
  manualSeed(7);
  return new nn.Sequential(
    new nn.Conv2d(3, 8, 3, { padding: 1, bias: false }), new nn.BatchNorm2d(8), new nn.ReLU(),
    new nn.Conv2d(8, 16, 3, { stride: 2, padding: 1 }), new nn.ReLU(),
    new nn.AdaptiveAvgPool2d(1), new nn.Flatten(), new nn.Linear(16, 3),
  );
}

/** A batch in shared memory, as the loader's worker threads write them (onnxruntime-node takes no such view). */
function batch(): Tensor {
  const values = new Float32Array(new SharedArrayBuffer(4 * 3 * 16 * 16 * 4));
  values.forEach((_, i) => { values[i] = Math.sin(i * 0.37); });
  return tensor(values, [4, 3, 16, 16]);
}

/** A forward pass, then one SGD step: the logits, the loss, every gradient and every updated weight. */
async function forwardAndStep(rt: Runtime): Promise<Float32Array[]> {
  return rt.run(async () => {
    const model = convNet();
    model.eval();
    const logits = await model.forward(batch()).floats();
    model.train();
    const optimizer = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    const loss = F.crossEntropy(model.forward(batch()), labels([0, 1, 2, 1]));
    await backward(loss);
    const params = [...model.parameters()];
    const grads = params.map((p) => p.grad!.value as Float32Array);
    optimizer.step();
    return [logits, await loss.floats(), ...grads, ...params.map((p) => p.value as Float32Array)];
  });
}

/** y = sigmoid(y W) `depth` times over a square matrix: a graph that runs long in one native call. */
function matmulChain(n: number, depth: number): Tensor {
  const w = constant(Float32Array.from({ length: n * n }, (_, i) => Math.cos(i) / Math.sqrt(n)), [n, n]);
  let y = tensor(Float32Array.from({ length: n * n }, (_, i) => Math.sin(i)), [n, n]);
  for (let i = 0; i < depth; i++) y = F.sigmoid(F.matmul(y, w));
  return F.sum(y);
}

/** The ONNX bytes and the feeds of a graph, for driving a SessionPool directly. */
function compiled(t: Tensor): { bytes: Uint8Array; feeds: Record<string, ort.Tensor> } {
  const tr = trace([t]);
  const feeds = Object.fromEntries(tr.feeds.map((f, i) => [`in_${i}`, new ort.Tensor('float32', f.value as Float32Array, f.shape as number[])]));
  return { bytes: compile(tr), feeds };
}

const sessionOptions = { threads: 1, provider: 'cpu' as const, memoryArena: true, memoryPattern: false, profilePrefix: null };

/** The longest gap between ticks of a 10 ms timer while `work` runs, and how long it ran. */
async function longestTimerGap(work: () => Promise<unknown>): Promise<{ gap: number; ran: number }> {
  let last = performance.now();
  let gap = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    gap = Math.max(gap, now - last);
    last = now;
  }, 10);
  const start = performance.now();
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  const end = performance.now();
  return { gap: Math.max(gap, end - last), ran: end - start };
}

test('the workers executor computes the same bytes as the inline one: forward, loss, gradients and the step', async () => {
  // Same ONNX bytes, same ONNX Runtime, same thread count: the kernels partition the work alike, so
  // every float is identical, not merely close.
  const inline = new Runtime({ threads: 2 });
  const workers = new Runtime({ threads: 2, executor: 'workers', workers: 1 });
  try {
    const a = await forwardAndStep(inline);
    const b = await forwardAndStep(workers);
    assert.equal(a.length, b.length);
    a.forEach((x, i) => assert.ok(Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(b[i].buffer, b[i].byteOffset, b[i].byteLength)), `result ${i} differs`));
  } finally {
    await Promise.all([inline.close(), workers.close()]);
  }
});

test('the event loop keeps turning while a long graph runs in a worker, and stops while it runs inline', async () => {
  const workers = new Runtime({ threads: 1, executor: 'workers', workers: 1, blockedLayout: false });
  const inline = new Runtime({ threads: 1, blockedLayout: false });
  try {
    // The first run compiles; the timed ones reuse the session.
    const chain = () => matmulChain(512, 240).item();
    await workers.run(chain);
    await inline.run(chain);
    const off = await longestTimerGap(() => workers.run(chain));
    const on = await longestTimerGap(() => inline.run(chain));
    assert.ok(on.gap > 0.8 * on.ran, `inline, the run blocks the timer (longest gap ${on.gap.toFixed(0)} ms of ${on.ran.toFixed(0)} ms)`);
    assert.ok(off.ran > 150, `the graph runs long enough to tell (${off.ran.toFixed(0)} ms)`);
    assert.ok(off.gap < Math.max(60, off.ran / 3), `in a worker the timer keeps firing (longest gap ${off.gap.toFixed(0)} ms of ${off.ran.toFixed(0)} ms)`);
  } finally {
    await Promise.all([inline.close(), workers.close()]);
  }
});

test('runs beyond the queue bound are refused at once with RuntimeBusyError; the others complete', async () => {
  const rt = new Runtime({ threads: 1, executor: 'workers', workers: 1, maxQueuedRuns: 1, blockedLayout: false });
  try {
    await rt.run(() => matmulChain(64, 4).item());
    // The same graph three times at once: one runs, one waits, the third finds the queue full.
    const results = await rt.run(() => Promise.allSettled([0, 1, 2].map(() => matmulChain(64, 4).item())));
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected']);
    const refused = (results[2] as PromiseRejectedResult).reason;
    assert.ok(refused instanceof RuntimeBusyError);
    assert.match(refused.message, /busy: 1 runs already wait for its 1 worker \(maxQueuedRuns\)/);
    assert.equal((results[0] as PromiseFulfilledResult<number>).value, (results[1] as PromiseFulfilledResult<number>).value);
  } finally {
    await rt.close();
  }
});

test('concurrent runs of one model get a session in each worker; releasing it releases them all', async () => {
  const pool = new SessionPool({ workers: 2, maxQueuedRuns: 8 });
  try {
    const { bytes, feeds } = compiled(matmulChain(128, 8));
    const session = await pool.createSession(bytes, sessionOptions, 'the chain');
    assert.deepEqual(pool.sessionsPerWorker(), [1, 0]);
    const [a, b] = await Promise.all([session.run(feeds), session.run(feeds)]);
    assert.deepEqual(a.out_0.data, b.out_0.data);
    assert.deepEqual(pool.sessionsPerWorker(), [1, 1], 'the second concurrent run took the idle worker');
    await session.run(feeds);
    assert.deepEqual(pool.sessionsPerWorker(), [1, 1], 'a lone run reuses a session');
    await session.release();
    assert.deepEqual(pool.sessionsPerWorker(), [0, 0]);
    assert.equal(pool.sessionCount, 0);
    await assert.rejects(session.run(feeds), /the chain was released/);
  } finally {
    await pool.close();
  }
});

test('release() stops the worker threads once no session is left, close() refuses further work', async () => {
  const rt = new Runtime({ threads: 1, executor: 'workers', workers: 2, blockedLayout: false });
  const value = await rt.run(() => matmulChain(32, 2).item());
  assert.equal(rt.workerThreads, 2);
  await rt.release();
  assert.equal(rt.sessionCount, 0);
  assert.equal(rt.workerThreads, 0);
  assert.equal(await rt.run(() => matmulChain(32, 2).item()), value, 'a later run starts the pool again');
  await rt.close();
  assert.equal(rt.workerThreads, 0);
  await assert.rejects(rt.run(() => matmulChain(32, 2).item()), /This runtime was closed/);
});

test('a worker that exits rejects its pending run naming the session; a fresh worker serves the queued and later runs', async () => {
  const pool = new SessionPool({ workers: 1, maxQueuedRuns: 8 });
  try {
    const { bytes, feeds } = compiled(matmulChain(256, 24));
    const session = await pool.createSession(bytes, sessionOptions, 'graph 1234abcd (48 ops, in chain)');
    const expected = (await session.run(feeds)).out_0.data;
    // The worker handles its messages in order: it exits before it sees the run sent after.
    pool.exitWorker(0);
    const pending = session.run(feeds);
    const queued = session.run(feeds);
    await assert.rejects(pending, (e: Error) => {
      assert.ok(e instanceof WorkerCrashError);
      assert.match(e.message, /^ONNX Runtime worker 0 stopped \(exit code 1\) while running graph 1234abcd \(48 ops, in chain\); the run was not retried/);
      return true;
    });
    assert.deepEqual((await queued).out_0.data, expected, 'the replacement recreates the session from the kept bytes');
    assert.deepEqual((await session.run(feeds)).out_0.data, expected);
  } finally {
    await pool.close();
  }
});
