import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';

const root = resolve(import.meta.dirname, '..');
const data = join(root, 'assets', 'sample-data', 'hymenoptera-mini');
const cli = join(root, 'src', 'cli', 'main.ts');
// Part of the backbone trains on images (not cached features), so the resume has to restore
// weights, batch-norm statistics, optimizer moments, the schedule and every random draw.
const args = ['--model', 'mobilenet_v3_small', '--weights', 'none', '--mode', 'frozen', '--unfreeze', '2', '--epochs', '3',
  '--batch-size', '16', '--optimizer', 'adamw', '--lr', '1e-3', '--scheduler', 'cosine', '--augment', 'light', '--seed', '7', '--quiet'];
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

test('a run killed with SIGKILL mid-epoch and resumed ends with the same weights as an uninterrupted run', { timeout: 600_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'graft-resume-'));
  try {
    const straight = join(dir, 'straight');
    const run = spawnSync(process.execPath, ['--import', 'tsx', cli, 'train', data, ...args, '--out', straight, '--json'], { cwd: root, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const summary = JSON.parse(run.stdout.trim().split('\n').pop()!);
    assert.equal(summary.epochs, 3);
    const history = JSON.parse(readFileSync(join(straight, 'graft.json'), 'utf8')).history as { seconds: number }[];
    const epochSeconds = history[1].seconds;

    const killed = join(dir, 'killed');
    const child = spawn(process.execPath, ['--import', 'tsx', cli, 'train', data, ...args, '--out', killed], { cwd: root, stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await new Promise<void>((done) => {
      const poll = setInterval(() => {
        if (existsSync(join(killed, 'checkpoint.safetensors'))) {
          clearInterval(poll);
          // Halfway into the second epoch.
          setTimeout(() => { child.kill('SIGKILL'); done(); }, Math.max(200, epochSeconds * 500));
        }
      }, 50);
    });
    assert.equal(await exited, null, 'the run was killed before it finished');
    assert.ok(!existsSync(join(killed, 'graft.json')), 'an interrupted run leaves no finished model behind');

    const resumed = spawnSync(process.execPath, ['--import', 'tsx', cli, 'train', data, ...args, '--out', killed, '--resume', '--json'], { cwd: root, encoding: 'utf8' });
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.equal(JSON.parse(resumed.stdout.trim().split('\n').pop()!).epochs, 3);
    assert.equal(sha(join(killed, 'model.safetensors')), sha(join(straight, 'model.safetensors')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
