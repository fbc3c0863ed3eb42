// A process that lives for days runs several jobs at once. What one job compiles, draws or
// measures must not reach another: sessions belong to a Runtime, transient scopes to the async
// flow that opened them, random draws to the job's generators, batch statistics to the forward
// that produced them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nn, tensor, Runtime, currentRuntime, withSeed, manualSeed } from '../src/index.ts';
import { generators } from '../src/data/generators.ts';

const input = (n: number) => tensor(Float32Array.from({ length: n * 4 }, (_, i) => i / 7), [n, 4]);
const tick = () => new Promise((r) => setImmediate(r));

test('a Runtime compiles and keeps its own sessions; run() makes it current for what it awaits', async () => {
  const rt = new Runtime({ threads: 1 });
  try {
    const layer = new nn.Linear(4, 3);
    const before = currentRuntime().sessionCount;
    const inside = await rt.run(async () => {
      await tick();
      assert.equal(currentRuntime(), rt);
      return layer.forward(input(2)).floats();
    });
    assert.equal(rt.sessionCount, 1);
    assert.equal(currentRuntime().sessionCount, before, 'the process runtime compiled nothing');
    assert.deepEqual(await layer.forward(input(2)).floats(), inside, 'the same graph gives the same values in another runtime');
    await rt.release();
    assert.equal(rt.sessionCount, 0);
  } finally {
    await rt.release();
  }
});

test('transient scopes open at the same time release only their own sessions', async () => {
  const rt = new Runtime({ threads: 1 });
  const a = new nn.Linear(4, 3);
  const b = new nn.Linear(4, 5);
  let releaseA!: () => void;
  const aMayEnd = new Promise<void>((r) => { releaseA = r; });
  await rt.run(async () => {
    const first = rt.withTransientSessions(async () => {
      await a.forward(input(3)).data();
      await aMayEnd;
    });
    const second = rt.withTransientSessions(async () => {
      await b.forward(input(3)).data();
      assert.equal(rt.sessionCount, 2);
      releaseA();
      await first;
      assert.equal(rt.sessionCount, 1, 'the first scope released its session and not this one');
      // The session compiled here is still alive: a second run of the same graph reuses it.
      const again = await b.forward(input(3)).floats();
      assert.equal(again.length, 15);
      assert.equal(rt.sessionCount, 1);
    });
    await Promise.all([first, second]);
  });
  assert.equal(rt.sessionCount, 0);
  await rt.release();
});

test('withSeed gives a job its own generators: interleaved jobs draw what each draws alone', async () => {
  const draw = async (seed: number) => withSeed(seed, async () => {
    const out: number[] = [];
    for (let i = 0; i < 5; i++) {
      out.push(generators().initRandom(), generators().transforms.random());
      await tick();
    }
    // Weight initialization draws from the job's generator too.
    out.push(...new nn.Linear(2, 2).weight.value as Float32Array);
    return out;
  });
  const alone = [await draw(1), await draw(2)];
  const together = await Promise.all([draw(1), draw(2)]);
  assert.deepEqual(together, alone);
  assert.notDeepEqual(alone[0], alone[1]);
});

test('manualSeed inside a job reseeds that job only', async () => {
  manualSeed(5);
  const outside = generators().initRandom();
  manualSeed(5);
  await withSeed(9, async () => {
    manualSeed(123);
    await tick();
  });
  assert.equal(generators().initRandom(), outside, 'the process generators were not touched by the job');
});

test('train-mode batch norm updates its running statistics from its own forward only', async () => {
  const bn = new nn.BatchNorm2d(2);
  bn.train();
  const x = tensor(Float32Array.from({ length: 2 * 2 * 2 * 2 }, (_, i) => i), [2, 2, 2, 2]);
  const y = bn.forward(x);
  // An unrelated run in the meantime (another job's graph) leaves the statistics alone.
  await new nn.Linear(4, 1).forward(input(1)).data();
  assert.deepEqual([...bn.running_mean.value as Float32Array], [0, 0]);
  await y.data();
  const mean = [...bn.running_mean.value as Float32Array];
  assert.ok(mean[0] > 0 && mean[1] > mean[0], `running mean moved towards the batch mean: ${mean}`);
  // Computing the same forward again (it is a value now) does not count the batch twice.
  await y.data();
  assert.deepEqual([...bn.running_mean.value as Float32Array], mean);
  assert.equal((bn.num_batches_tracked.value as BigInt64Array)[0], 1n);
});
