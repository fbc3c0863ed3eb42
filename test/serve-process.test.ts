// `graft serve` as a process: it prints where it listens, logs one JSON line per request with
// --json, and on SIGTERM stops accepting, answers every request it had admitted and exits 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const folder = join(root, 'test', 'fixtures', 'export', 'model');
const ants = join(root, 'assets', 'sample-data', 'hymenoptera-mini', 'val', 'ants');
const image = readFileSync(join(ants, readdirSync(ants).sort()[0]));

function start(...args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), 'serve', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  const listening = new Promise<string>((done, fail) => {
    child.stderr.on('data', (d) => {
      stderr += d;
      const m = /listening on (http:\/\/\S+)/.exec(stderr);
      if (m) done(m[1]);
    });
    child.on('exit', (code) => fail(new Error(`graft serve exited ${code} before listening: ${stderr}`)));
  });
  return { child, listening, exited, output: () => ({ stdout, stderr }) };
}

test('graft serve logs a JSON line per request and, on SIGTERM, answers what it admitted and exits 0', async () => {
  const server = start(`bugs=${folder}`, '--port', '0', '--json', '--max-batch', '1');
  const url = await server.listening;
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const sent = Array.from({ length: 40 }, () => fetch(`${url}/predictions/bugs`, { method: 'POST', body: image }));
  // SIGTERM once the server holds some of them: it must answer every one it admitted.
  let admitted = 0;
  while (admitted === 0) {
    const metrics = await (await fetch(`${url}/metrics`)).text();
    admitted = Number(/^graft_images_in_flight\{model="bugs"\} (\d+)$/m.exec(metrics)?.[1] ?? 0);
  }
  server.child.kill('SIGTERM');
  const answers = await Promise.all(sent);
  const statuses = answers.map((a) => a.status);
  assert.ok(statuses.every((s) => s === 200 || s === 503), `only answers and refusals, no dropped connection: ${statuses}`);
  const answered = answers.filter((a) => a.status === 200);
  assert.ok(answered.length >= admitted, `${answered.length} answered, ${admitted} were admitted at SIGTERM`);
  for (const a of answered) assert.deepEqual(Object.keys(await a.json() as object).sort(), ['ant', 'bee', 'wasp']);
  assert.equal(await server.exited, 0, server.output().stderr);
  const { stdout, stderr } = server.output();
  assert.match(stderr, /SIGTERM: finishing the requests in flight[\s\S]*stopped/);
  const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { method: string; url: string; status: number; model: string; images: number; ms: number });
  const predictions = lines.filter((l) => l.url === '/predictions/bugs' && l.status === 200);
  assert.equal(predictions.length, answered.length, 'one line per answered request');
  for (const l of predictions) {
    assert.deepEqual([l.method, l.model, l.images], ['POST', 'bugs', 1]);
    assert.ok(l.ms > 0);
  }
  await assert.rejects(fetch(`${url}/ping`), 'nothing listens after the exit');
});

test('graft serve refuses a folder that is not a model with the reason, before listening', async () => {
  const server = start(join(root, 'assets'), '--port', '0');
  await assert.rejects(server.listening, /not a complete graft model folder \(no graft\.json\)/);
  assert.equal(await server.exited, 1);
});
