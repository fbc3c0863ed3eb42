import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultGraftCacheDir, defaultTorchCacheDir, hashPrefixFromFileName, resolveWeights } from '../src/formats/download.ts';

const BODY = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7) % 251));
const HASH = createHash('sha256').update(BODY).digest('hex').slice(0, 8);
const NAME = `tiny-${HASH}.pth`;

/** A local server: /models/<name> serves BODY, /cut/<name> promises twice as much and hangs up. */
async function serve(t: { after: (fn: () => unknown) => void }): Promise<{ base: string; requests: string[] }> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req.url!);
    if (req.url!.startsWith('/models/')) {
      res.writeHead(200, { 'Content-Length': BODY.length });
      res.end(BODY);
    } else if (req.url!.startsWith('/cut/')) {
      res.writeHead(200, { 'Content-Length': BODY.length * 2 });
      res.write(BODY, () => res.socket?.destroy());
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  t.after(() => new Promise((ok) => server.close(ok)));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

async function dirs(t: { after: (fn: () => unknown) => void }) {
  const root = await mkdtemp(join(tmpdir(), 'graft-dl-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  return { cacheDir: join(root, 'graft'), torchHome: join(root, 'torch'), progress: false };
}

test('downloads, checks the hash in the file name, then serves the cache without a request', async (t) => {
  const { base, requests } = await serve(t);
  const d = await dirs(t);
  const path = await resolveWeights({ url: `${base}/models/${NAME}`, ...d });
  assert.equal(path, join(d.cacheDir, NAME));
  assert.deepEqual(await readFile(path), BODY);
  assert.equal(requests.length, 1);
  assert.equal(await resolveWeights({ url: `${base}/models/${NAME}`, ...d }), path);
  assert.equal(requests.length, 1, 'the second call must not touch the network');
  assert.deepEqual(await readdir(d.cacheDir), [NAME]);
});

test('a hash mismatch is an error naming URL, expected and actual prefix; nothing is kept', async (t) => {
  const { base } = await serve(t);
  const d = await dirs(t);
  const url = `${base}/models/tiny-00000000.pth`;
  await assert.rejects(resolveWeights({ url, ...d }), {
    message: `Downloaded ${url} but its SHA-256 starts with ${HASH}, expected 00000000; the file was not kept`,
  });
  assert.deepEqual(await readdir(d.cacheDir), []);
  // An explicit prefix overrides the file name's.
  await assert.rejects(resolveWeights({ url: `${base}/models/${NAME}`, sha256Prefix: 'abcdef12', ...d }), { message: /expected abcdef12/ });
  assert.deepEqual(await readdir(d.cacheDir), []);
});

test('a connection cut half-way is an error and leaves no partial file', async (t) => {
  const { base } = await serve(t);
  const d = await dirs(t);
  const url = `${base}/cut/${NAME}`;
  await assert.rejects(resolveWeights({ url, ...d }), (e: Error) => {
    assert.match(e.message, new RegExp(`^Could not download ${url}`));
    return true;
  });
  assert.deepEqual(await readdir(d.cacheDir), []);
});

test("PyTorch's cache is used as is, without a request", async (t) => {
  const { base, requests } = await serve(t);
  const d = await dirs(t);
  const torchDir = join(d.torchHome, 'hub', 'checkpoints');
  await mkdir(torchDir, { recursive: true });
  await writeFile(join(torchDir, NAME), BODY);
  assert.equal(await resolveWeights({ url: `${base}/models/${NAME}`, ...d }), join(torchDir, NAME));
  assert.equal(requests.length, 0);
});

test('offline: the error says which file to put where', async (t) => {
  const { base } = await serve(t);
  const d = await dirs(t);
  // A port nothing listens on: open one, then close it.
  const probe = createServer();
  await new Promise<void>((ok) => probe.listen(0, '127.0.0.1', ok));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((ok) => probe.close(ok));
  const url = `http://127.0.0.1:${port}/models/resnet18-f37072fd.pth`;
  const torchDir = join(d.torchHome, 'hub', 'checkpoints');
  await assert.rejects(resolveWeights({ url, ...d }), (e: Error) => {
    assert.match(e.message, new RegExp(`^Could not download ${url} \\(.*ECONNREFUSED.*\\)\\. `));
    assert.ok(e.message.endsWith(`Offline? Put resnet18-f37072fd.pth in ${d.cacheDir} or ${torchDir}.`), e.message);
    return true;
  });
  await assert.rejects(resolveWeights({ url: `${base}/missing/x-12345678.pth`, ...d }), {
    message: new RegExp(`^Could not download ${base}/missing/x-12345678\\.pth \\(HTTP 404 Not Found\\)\\. Offline\\? Put x-12345678\\.pth in `),
  });
});

test('cache locations follow GRAFT_HOME and TORCH_HOME; hash prefixes follow torch.hub', () => {
  const saved = { ...process.env };
  try {
    process.env.GRAFT_HOME = '/g';
    process.env.TORCH_HOME = '/t';
    assert.equal(defaultGraftCacheDir(), join('/g', 'checkpoints'));
    assert.equal(defaultTorchCacheDir(), join('/t', 'hub', 'checkpoints'));
    assert.equal(defaultTorchCacheDir('/other'), join('/other', 'hub', 'checkpoints'));
  } finally {
    process.env.GRAFT_HOME = saved.GRAFT_HOME;
    process.env.TORCH_HOME = saved.TORCH_HOME;
    if (saved.GRAFT_HOME === undefined) delete process.env.GRAFT_HOME;
    if (saved.TORCH_HOME === undefined) delete process.env.TORCH_HOME;
  }
  assert.equal(hashPrefixFromFileName('resnet18-f37072fd.pth'), 'f37072fd');
  assert.equal(hashPrefixFromFileName('mobilenet_v3_large-8738ca79.pth'), '8738ca79');
  assert.equal(hashPrefixFromFileName('model.pth'), undefined);
});
