import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { listModels } from '../src/models/index.ts';

const root = resolve(import.meta.dirname, '..');
const shared = resolve(root, '..', 'shared');
const graft = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), ...args], { cwd: root, encoding: 'utf8' });

test('graft models --json lists every zoo architecture with its weight variants', () => {
  const r = graft('models', '--json');
  assert.equal(r.status, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as { arch: string; weights: { name: string; default: boolean }[] }[];
  assert.deepEqual(rows.map((r) => r.arch), listModels());
  assert.equal(rows[0].arch, 'resnet18');
  for (const row of rows) assert.equal(row.weights.filter((w) => w.default).length, 1, row.arch);
});

test('graft predict names an unknown architecture and lists the valid ones', () => {
  const r = graft('predict', 'x.jpg', '--model', 'resnet19');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /Unknown model "resnet19"; expected one of resnet18, resnet34/);
});

const images = join(shared, 'images');
const weights = join(shared, 'weights', 'mobilenet_v2_imagenet.pth');
test('graft predict gives PyTorch\'s top-1 for the reference photos with the MobileNetV2 checkpoint', { skip: !existsSync(weights) && 'needs the reference weights beside the repository' }, () => {
  const expected = JSON.parse(readFileSync(join(images, 'expected_mobilenet_v2_top5.json'), 'utf8')) as Record<string, { top5: { index: number; prob: number }[] }>;
  const files = readdirSync(images).filter((f) => /\.(bmp|jpg)$/.test(f)).map((f) => join(images, f));
  const r = graft('predict', ...files, '--model', 'mobilenet_v2', '--weights', weights, '--topk', '5', '--json');
  assert.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout) as { file: string; top: { index: number; label: string; prob: number }[] }[];
  assert.equal(got.length, 8);
  for (const g of got) {
    const want = expected[g.file.split('/').pop()!].top5[0];
    assert.equal(g.top[0].index, want.index, g.file);
    assert.ok(Math.abs(g.top[0].prob - want.prob) <= 0.03, `${g.file}: ${g.top[0].prob} vs ${want.prob}`);
    assert.equal(g.top.length, 5);
  }
});
