// Errors that came late or unclear: an output folder that cannot be written is refused before any
// work; a feature cache that cannot be written turns caching off and says so; a write that fails
// for want of room names the file; a folder without graft.json is named for what it is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { jobs, type TrainConfig, type TrainEvent } from '../src/index.ts';
import { INT8_BACKBONE, smallDataset } from './support/small-dataset.ts';

const root = resolve(import.meta.dirname, '..');
const cli = join(root, 'src', 'cli', 'main.ts');
const graft = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
const dir = mkdtempSync(join(tmpdir(), 'graft-output-checks-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const data = smallDataset(join(dir, 'data'), { train: 6, val: 3 });
const config: Partial<TrainConfig> = { model: INT8_BACKBONE, epochs: 1, batchSize: 4, featureCache: false };
const literally = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const file = join(dir, 'a-file');
writeFileSync(file, 'not a folder');

test('an --out that is a file, below a file, or on a file system that takes no folders is refused before any work', async () => {
  const cases: [string, RegExp][] = [
    [file, new RegExp(`^Expected a folder to write the model into for out but received ${literally(file)}, an existing file$`)],
    [join(file, 'model'), new RegExp(`^Expected a folder that can be created for out but received ${literally(join(file, 'model'))}, below ${literally(file)}, which is a file$`)],
  ];
  // /proc takes no new folders; writing a model there used to hang.
  if (process.platform === 'linux') cases.push(['/proc/graft-model', /^Expected a folder that can be created and written for out but received \/proc\/graft-model: nothing can be created in \/proc \(\w+\)$/]);
  for (const [out, message] of cases) {
    const events: TrainEvent[] = [];
    await assert.rejects(jobs.train(data, config, { out, onEvent: (e) => events.push(e) }), { name: 'RangeError', message });
    assert.deepEqual(events, [], `${out}: refused before the dataset is read`);
  }
  const r = graft('train', data, '--model', INT8_BACKBONE, '--out', '/proc/graft-model', '--quiet');
  if (process.platform === 'linux') {
    assert.equal(r.status, 1, `graft train --out /proc/... ends (signal ${r.signal})`);
    assert.match(r.stderr, /^graft: Expected a folder that can be created and written for out but received \/proc\/graft-model/);
  }
});

test('a feature cache folder that cannot be written turns caching off, says so naming the folder, and the run goes on', async () => {
  const cacheDir = join(dir, 'cache-is-a-file');
  writeFileSync(cacheDir, 'not a folder');
  const off: TrainEvent[] = [];
  const job = await jobs.train(data, { ...config, featureCache: true, cacheDir, epochs: 2 }, { out: join(dir, 'cache-off'), onEvent: (e) => { if (e.type === 'cache-off') off.push(e); } });
  assert.equal(job.summary.epochs, 2);
  assert.equal(off.length, 1, 'said once');
  const e = off[0] as Extract<TrainEvent, { type: 'cache-off' }>;
  assert.ok(e.dir.startsWith(cacheDir), e.dir);
  assert.match(e.reason, /\bE[A-Z]+\b/, 'the system error, ENOTDIR on Linux');

  const r = graft('train', data, '--model', INT8_BACKBONE, '--epochs', '1', '--batch-size', '4', '--cache-dir', cacheDir, '--out', join(dir, 'cache-off-cli'));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`graft: cannot write the feature cache in ${literally(cacheDir)}.\\w+ \\(.*E[A-Z]+.*\\); continuing without caching`));
});

test('a write that runs out of room names the file it was writing', { skip: process.platform === 'win32' && 'needs ulimit' }, () => {
  // The file size limit makes writes fail as a full disk does, without a full disk.
  const out = join(dir, 'no-room');
  const r = spawnSync('bash', ['-c', `ulimit -f 2048 && exec "${process.execPath}" --import tsx "${cli}" train "${data}" --model "${INT8_BACKBONE}" --epochs 1 --batch-size 4 --no-cache --quiet --out "${out}"`], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stderr, `graft: Cannot write ${out}/backbone.onnx: the file would exceed the size limit for files (EFBIG)\n`);
  assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('.no-room')), [], 'the half-written folder is removed');
  assert.ok(!existsSync(join(out, 'graft.json')));

  const tiny = join(dir, 'no-room-checkpoint');
  const c = spawnSync('bash', ['-c', `ulimit -f 8 && exec "${process.execPath}" --import tsx "${cli}" train "${data}" --model "${INT8_BACKBONE}" --epochs 1 --batch-size 4 --no-cache --quiet --out "${tiny}"`], { cwd: root, encoding: 'utf8' });
  assert.equal(c.status, 1);
  assert.equal(c.stderr, `graft: Cannot write ${tiny}/checkpoint.safetensors: the file would exceed the size limit for files (EFBIG)\n`);
});

test('a folder without graft.json is "not a complete graft model folder" to predict, eval and export, and named as a folder to train', () => {
  const empty = join(dir, 'half');
  mkdirSync(empty);
  writeFileSync(join(empty, 'labels.txt'), 'ants\nbees\n');
  const message = `${empty} is not a complete graft model folder (no graft.json); graft train --out writes one`;
  for (const args of [['predict', join(data, 'val', 'ants', 'x.jpg'), '--model', empty], ['eval', empty, data], ['export', empty, '--format', 'onnx', '--out', join(dir, 'x.onnx')]]) {
    const r = graft(...args);
    assert.equal(r.status, 1, args[0]);
    assert.equal(r.stderr, `graft: ${message}\n`, args[0]);
  }
  const r = graft('train', data, '--model', empty, '--out', join(dir, 'from-folder'));
  assert.equal(r.status, 1);
  assert.equal(r.stderr, `graft: ${empty} is a folder, and not a complete graft model folder (no graft.json); the model to train is a zoo name (graft models lists them), onnx:<file.onnx>[#tensor] or tfjs:<model.json>\n`);
});

test('predict --model onnx: runs without --weights, and names a --weights that was given', () => {
  const image = readdirSync(join(data, 'val', 'ants')).map((f) => join(data, 'val', 'ants', f))[0];
  const ok = graft('predict', image, '--model', INT8_BACKBONE, '--topk', '1', '--json');
  assert.equal(ok.status, 0, ok.stderr);
  assert.doesNotMatch(ok.stderr, /DEFAULT/);
  const given = graft('predict', image, '--model', INT8_BACKBONE, '--weights', 'IMAGENET1K_V2');
  assert.equal(given.status, 1);
  assert.equal(given.stderr, `graft: weights "IMAGENET1K_V2" apply to zoo models; ${INT8_BACKBONE} brings its own weights\n`);
});
