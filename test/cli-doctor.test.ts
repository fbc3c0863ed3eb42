// `graft doctor` reports what it finds by trying it: Node's version, onnxruntime-node and sharp
// loaded, a graph run on each execution provider, and the cache folders (graft's and PyTorch's,
// from GRAFT_HOME and TORCH_HOME) with their sizes and the torchvision weights they already hold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { WEIGHTS_CATALOG } from '../src/models/catalog.ts';
import type { DoctorReport } from '../src/cli/doctor.ts';

const root = resolve(import.meta.dirname, '..');
const main = join(root, 'src', 'cli', 'main.ts');
const ortVersion = (JSON.parse(readFileSync(join(root, 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8')) as { version: string }).version;

function doctor(env: NodeJS.ProcessEnv, ...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', main, 'doctor', ...args], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('graft doctor --json: versions, native modules, providers, cache sizes and cached torchvision weights', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'graft-doctor-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const graftHome = join(tmp, 'graft');
  const torchHome = join(tmp, 'torch');
  const resnet18 = WEIGHTS_CATALOG.find((w) => w.arch === 'resnet18' && w.isDefault)!;
  const mobilenet = WEIGHTS_CATALOG.find((w) => w.arch === 'mobilenet_v2' && w.isDefault)!;
  mkdirSync(join(torchHome, 'hub', 'checkpoints'), { recursive: true });
  writeFileSync(join(torchHome, 'hub', 'checkpoints', resnet18.fileName), new Uint8Array(1000));
  writeFileSync(join(torchHome, 'hub', 'checkpoints', 'not-a-torchvision-file.bin'), new Uint8Array(24));
  mkdirSync(join(graftHome, 'checkpoints', 'partial'), { recursive: true });
  writeFileSync(join(graftHome, 'checkpoints', mobilenet.fileName), new Uint8Array(500));
  writeFileSync(join(graftHome, 'checkpoints', 'partial', 'x'), new Uint8Array(7));
  const env = { GRAFT_HOME: graftHome, TORCH_HOME: torchHome };

  const r = doctor(env, '--json');
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as DoctorReport;
  assert.equal(report.ok, true);
  assert.equal(report.node.version, process.version);
  assert.equal(report.node.ok, true);
  assert.deepEqual(report.onnxruntime, { ok: true, version: ortVersion });
  assert.equal(report.sharp.ok, true);
  assert.match(report.sharp.version!, /^\d+\.\d+\.\d+/);
  assert.deepEqual(report.executionProviders.map((p) => p.name), ['cpu', 'webgpu', 'cuda']);
  assert.deepEqual(report.executionProviders[0], { name: 'cpu', available: true });
  for (const p of report.executionProviders) if (!p.available) assert.ok(p.error, `${p.name} says why it is not available`);
  assert.deepEqual(report.caches, [
    { name: 'graft weights', path: join(graftHome, 'checkpoints'), exists: true, files: 2, bytes: 507 },
    { name: 'graft features', path: join(graftHome, 'features'), exists: false, files: 0, bytes: 0 },
    { name: 'PyTorch hub checkpoints', path: join(torchHome, 'hub', 'checkpoints'), exists: true, files: 2, bytes: 1024 },
  ]);
  assert.deepEqual(report.torchvisionWeights, [
    { arch: 'mobilenet_v2', weights: mobilenet.name, file: mobilenet.fileName, cache: 'graft weights' },
    { arch: 'resnet18', weights: resnet18.name, file: resnet18.fileName, cache: 'PyTorch hub checkpoints' },
  ]);

  const text = doctor(env);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`^ok +onnxruntime-node ${ortVersion.replace(/\./g, '\\.')}$`, 'm'));
  assert.match(text.stdout, /^ok +execution provider cpu: available$/m);
  assert.match(text.stdout, new RegExp(`^  resnet18 ${resnet18.name}  ${resnet18.fileName}  \\(PyTorch hub checkpoints\\)$`, 'm'));
  assert.match(text.stdout, /^graft features +.*features +- +none$/m);
});

test('graft doctor with empty caches says zoo weights download on first use', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'graft-doctor-empty-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const r = doctor({ GRAFT_HOME: join(tmp, 'g'), TORCH_HOME: join(tmp, 't') });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /No torchvision weights in PyTorch's cache or graft's/);
});
