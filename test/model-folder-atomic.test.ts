// Rewriting a model folder: a `graft train` killed at any moment leaves the old complete folder or
// the new complete one, never new weights beside old labels or a torn backbone; what a kill leaves
// (a half-written folder beside it, temp files) is put in order by the next run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { recoverModelFolder } from '../src/artifacts/model-folder.ts';
import { jobs, type TrainConfig } from '../src/index.ts';
import { INT8_BACKBONE, smallDataset } from './support/small-dataset.ts';

const root = resolve(import.meta.dirname, '..');
const cli = join(root, 'src', 'cli', 'main.ts');
const dir = mkdtempSync(join(tmpdir(), 'graft-atomic-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
const backboneSha = sha(INT8_BACKBONE.slice('onnx:'.length));

/** The same images under other class names: a run on it writes other labels and other weights. */
function renamedClasses(from: string, to: string, names: Record<string, string>): string {
  for (const split of ['train', 'val']) {
    for (const [a, b] of Object.entries(names)) cpSync(join(from, split, a), join(to, split, b), { recursive: true });
  }
  return to;
}

const insects = smallDataset(join(dir, 'insects'), { train: 6, val: 3 });
const pets = renamedClasses(insects, join(dir, 'pets'), { ants: 'cats', bees: 'dogs' });
// Each dataset has its own seed, so the two runs' weights differ as well as their labels.
const args = (data: string, out: string) => [
  '--import', 'tsx', cli, 'train', data, '--model', INT8_BACKBONE, '--epochs', '2', '--batch-size', '4', '--no-cache',
  '--seed', data === insects ? '3' : '4', '--quiet', '--out', out,
];
const graftTrain = (data: string, out: string) => spawn(process.execPath, args(data, out), { cwd: root, stdio: 'ignore' });

function trainNow(data: string, out: string): void {
  const r = spawnSync(process.execPath, args(data, out), { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

interface Expected { classes: string[]; weights: string; title: string }

/** Which complete folder `out` is ('old' or 'new'); throws when its files do not belong together. */
function whichComplete(out: string, old: Expected, fresh: Expected): 'old' | 'new' {
  const manifest = JSON.parse(readFileSync(join(out, 'graft.json'), 'utf8')) as { classes: string[]; model: string };
  const which = manifest.classes.join() === old.classes.join() ? 'old' : manifest.classes.join() === fresh.classes.join() ? 'new' : null;
  assert.ok(which, `graft.json names classes ${manifest.classes}`);
  const want = which === 'old' ? old : fresh;
  assert.equal(readFileSync(join(out, 'labels.txt'), 'utf8'), `${want.classes.join('\n')}\n`, 'labels.txt matches graft.json');
  assert.equal(sha(join(out, 'model.safetensors')), want.weights, `the weights are the ${which} run's`);
  assert.equal(sha(join(out, 'backbone.onnx')), backboneSha, 'backbone.onnx is whole');
  assert.ok(readFileSync(join(out, 'report.html'), 'utf8').includes(want.title), `report.html is the ${which} run's`);
  return which;
}

/** Entries beside `out` and inside it that a writer leaves while at work. */
function leftovers(out: string): string[] {
  const beside = readdirSync(dirname(out)).filter((n) => n.startsWith(`.${basename(out)}.graft-`));
  const inside = existsSync(out) ? readdirSync(out).filter((n) => n.endsWith('.tmp')) : [];
  return [...beside, ...inside];
}

type Point = { name: string; reached: (out: string) => boolean };
const stages = (out: string) => readdirSync(dirname(out)).filter((n) => n.startsWith(`.${basename(out)}.graft-new-`)).map((n) => join(dirname(out), n));
const inStage = (file: string) => (out: string) => stages(out).some((s) => existsSync(join(s, file)));
const POINTS: Point[] = [
  { name: 'during training, after the first checkpoint', reached: (out) => existsSync(join(out, 'checkpoint.safetensors')) },
  { name: 'as the new folder is started beside the old', reached: (out) => stages(out).length > 0 },
  { name: 'after the weights are written', reached: inStage('model.safetensors') },
  { name: 'after the labels are written', reached: inStage('labels.txt') },
  { name: 'after the report is written', reached: inStage('report.html') },
  { name: 'after graft.json is written, before the swap', reached: inStage('graft.json') },
  { name: 'during the swap', reached: (out) => readdirSync(dirname(out)).some((n) => n.startsWith(`.${basename(out)}.graft-old-`)) },
];

test('graft train killed at points of rewriting a model folder leaves the old complete folder or the new one', { timeout: 300_000 }, async (t) => {
  const oldOut = join(dir, 'reference-old');
  const newOut = join(dir, 'reference-new');
  trainNow(insects, oldOut);
  trainNow(pets, newOut);
  const old: Expected = { classes: ['ants', 'bees'], weights: sha(join(oldOut, 'model.safetensors')), title: 'insects' };
  const fresh: Expected = { classes: ['cats', 'dogs'], weights: sha(join(newOut, 'model.safetensors')), title: 'pets' };
  assert.notEqual(old.weights, fresh.weights);

  const outcomes: string[] = [];
  let killedWhileWriting = 0;
  for (const [i, point] of POINTS.entries()) {
    const out = join(dir, `kill-${i}`, 'model');
    mkdirSync(dirname(out));
    cpSync(oldOut, out, { recursive: true });
    const child = graftTrain(pets, out);
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_code, signal) => r(signal)));
    let running = true;
    void exited.then(() => { running = false; });
    while (running && !point.reached(out)) await sleep(1);
    const writing = stages(out).length > 0;
    child.kill('SIGKILL');
    const signal = await exited;
    if (signal === 'SIGKILL' && writing) killedWhileWriting++;

    // Right after the kill, a folder holding graft.json is whole; only inside the swap's two
    // renames is the folder briefly absent, and then the new one waits complete beside it.
    if (existsSync(join(out, 'graft.json'))) whichComplete(out, old, fresh);
    else assert.ok(!existsSync(out) && stages(out).length > 0, `${point.name}: a folder without graft.json: ${existsSync(out) ? readdirSync(out) : 'none'}`);

    await recoverModelFolder(out);
    const which = whichComplete(out, old, fresh);
    assert.deepEqual(leftovers(out), [], `${point.name}: the next run removes what the killed one left`);
    outcomes.push(`${point.name}: ${signal ?? 'finished'}, ${which}`);
  }
  t.diagnostic(outcomes.join('; '));
  assert.ok(killedWhileWriting >= 1, `at least one kill lands while the new folder is being written:\n${outcomes.join('\n')}`);
});

/** The pid of a process that has exited: leftovers named by it belong to no live writer. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

function fakeFolder(path: string, classes: string[], complete: boolean): void {
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, 'labels.txt'), `${classes.join('\n')}\n`);
  if (complete) writeFileSync(join(path, 'graft.json'), JSON.stringify({ classes }));
}

test('recovery finishes a swap a kill interrupted, or undoes one that had not got that far', async () => {
  const pid = deadPid();
  const hex = 'a1b2c3d4';
  const labels = (out: string) => readFileSync(join(out, 'labels.txt'), 'utf8');

  // Killed between the two renames: the old folder moved aside, the complete new one not yet in place.
  const between = join(dir, 'between', 'm');
  fakeFolder(join(dirname(between), `.m.graft-old-${pid}-${hex}`), ['old1', 'old2'], true);
  fakeFolder(join(dirname(between), `.m.graft-new-${pid}-${hex}`), ['new1', 'new2'], true);
  await recoverModelFolder(between);
  assert.equal(labels(between), 'new1\nnew2\n');
  assert.deepEqual(readdirSync(dirname(between)), ['m']);

  // A new folder without graft.json is unfinished: the old one comes back.
  const unfinished = join(dir, 'unfinished', 'm');
  fakeFolder(join(dirname(unfinished), `.m.graft-old-${pid}-${hex}`), ['old1', 'old2'], true);
  fakeFolder(join(dirname(unfinished), `.m.graft-new-${pid}-${hex}`), ['new1', 'new2'], false);
  await recoverModelFolder(unfinished);
  assert.equal(labels(unfinished), 'old1\nold2\n');
  assert.deepEqual(readdirSync(dirname(unfinished)), ['m']);

  // A live writer's folder (this process stands in for one) is left alone.
  const live = join(dir, 'live', 'm');
  fakeFolder(live, ['a', 'b'], true);
  fakeFolder(join(dirname(live), `.m.graft-new-${process.pid}-${hex}`), ['c', 'd'], false);
  writeFileSync(join(live, `.checkpoint.safetensors.${pid}.${hex}.tmp`), 'torn');
  writeFileSync(join(live, `.graft.json.${process.pid}.${hex}.tmp`), 'in progress');
  await recoverModelFolder(live);
  assert.deepEqual(readdirSync(dirname(live)).sort(), ['.m.graft-new-' + process.pid + '-' + hex, 'm']);
  assert.deepEqual(readdirSync(live).sort(), [`.graft.json.${process.pid}.${hex}.tmp`, 'graft.json', 'labels.txt']);
});

const config: Partial<TrainConfig> = { model: INT8_BACKBONE, epochs: 2, batchSize: 4, seed: 1 };

test('the next training run removes the temp files killed runs left in the model and feature cache folders', async () => {
  const out = join(dir, 'temps');
  const cacheDir = join(dir, 'temps-cache');
  await jobs.train(insects, { ...config, cacheDir }, { out });
  const pid = deadPid();
  const shard = readdirSync(cacheDir).map((d) => join(cacheDir, d)).flatMap((d) => readdirSync(d).map((s) => join(d, s)))[0];
  const strays = [
    join(out, `.checkpoint.safetensors.${pid}.0badf00d.tmp`),
    join(out, `.model.safetensors.${pid}.0badf00d.tmp`),
    join(shard, `.${'e'.repeat(38)}-0.f32.${pid}.0badf00d.tmp`),
  ];
  for (const f of strays) writeFileSync(f, 'left by a kill');
  const events: string[] = [];
  const job = await jobs.train(insects, { ...config, cacheDir }, { out, onEvent: (e) => events.push(e.type) });
  assert.ok(job.result.featureCacheHits > 0, 'the cache was read');
  for (const f of strays) assert.ok(!existsSync(f), `${basename(f)} removed`);
});

test('rewriting a model folder keeps the owner\'s files and drops a finished run\'s checkpoint', async () => {
  const out = join(dir, 'keeps');
  await jobs.train(insects, { ...config, featureCache: false }, { out });
  writeFileSync(join(out, 'NOTES.md'), 'why this model exists');
  mkdirSync(join(out, 'samples'));
  writeFileSync(join(out, 'samples', 'a.txt'), 'a');
  writeFileSync(join(out, 'checkpoint.safetensors'), 'stands in for a stale checkpoint');
  await jobs.train(pets, { ...config, featureCache: false }, { out });
  assert.equal(readFileSync(join(out, 'NOTES.md'), 'utf8'), 'why this model exists');
  assert.equal(readFileSync(join(out, 'samples', 'a.txt'), 'utf8'), 'a');
  assert.ok(!existsSync(join(out, 'checkpoint.safetensors')), 'a finished run leaves no checkpoint');
  assert.equal(readFileSync(join(out, 'labels.txt'), 'utf8'), 'cats\ndogs\n');
  assert.deepEqual(leftovers(out), []);
});

test('a folder a kill left without its graft.json loads once recovered: loadModel finishes the swap', async () => {
  const out = join(dir, 'load-recovers');
  await jobs.train(insects, { ...config, featureCache: false }, { out });
  renameSync(out, join(dir, `.load-recovers.graft-new-${deadPid()}-0123abcd`));
  const loaded = await jobs.loadModel(out);
  assert.deepEqual(loaded.labels, ['ants', 'bees']);
});

test('graft train --out . from inside the model folder rewrites it in place, graft.json last', () => {
  const out = join(dir, 'in-place');
  trainNow(insects, out);
  // Run from inside the folder, tsx is named by its location rather than looked up from there.
  const r = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), cli, 'train', pets, '--model', INT8_BACKBONE, '--epochs', '1', '--batch-size', '4', '--no-cache', '--quiet', '--out', '.'], { cwd: out, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(join(out, 'labels.txt'), 'utf8'), 'cats\ndogs\n');
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'graft.json'), 'utf8')).classes, ['cats', 'dogs']);
  assert.equal(sha(join(out, 'backbone.onnx')), backboneSha);
  assert.deepEqual(leftovers(out), []);
});
