// The pretrained-weights path of training, end to end over HTTP: a torchvision-format .pth of
// efficientnet_b0 (deterministic values standing in for the ImageNet ones, which cannot be
// downloaded here) served by a local server under a catalog entry of its own (URL and hash
// prefix are the catalog's to give, so the real entries cannot point here). The training job
// finds it in neither cache, downloads and hash-checks it into graft's cache, loads it, replaces
// the head and trains frozen: the saved backbone is the served file's, unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { createModel, findWeights } from '../src/models/registry.ts';
import { WEIGHTS_CATALOG, type WeightsEntry } from '../src/models/catalog.ts';
import { writePth } from '../src/formats/pth.ts';
import { loadModelFolder } from '../src/artifacts/model-folder.ts';
import { train } from '../src/jobs/train.ts';
import { deterministicStateDict } from './support/deterministic.ts';
import { keysOf } from './support/zoo-golden.ts';

const ARCH = 'efficientnet_b0';
const VARIANT = 'IMAGENET1K_LOCAL';
const sample = resolve(import.meta.dirname, '..', 'assets', 'sample-data', 'hymenoptera-mini');

test(`training ${ARCH} with weights ${VARIANT} (the job graft train runs): downloaded, hash-checked, cached, loaded and kept frozen`, { timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'graft-weights-http-'));
  const saved = { GRAFT_HOME: process.env.GRAFT_HOME, TORCH_HOME: process.env.TORCH_HOME };
  process.env.GRAFT_HOME = join(dir, 'graft');
  process.env.TORCH_HOME = join(dir, 'torch');
  t.after(() => {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    rmSync(dir, { recursive: true, force: true });
  });

  // The file as torchvision writes it: its builder's keys and shapes, 1000 classes.
  const pretrained = deterministicStateDict(keysOf((await createModel(ARCH)).stateDict()));
  const staged = join(dir, 'staged.pth');
  await writePth(staged, pretrained);
  const body = readFileSync(staged);
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 8);
  const fileName = `${ARCH}_local-${hash}.pth`;

  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url!);
    if (req.url === `/models/${fileName}`) res.writeHead(200, { 'Content-Length': body.length }).end(body);
    else res.writeHead(404).end();
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  t.after(() => new Promise((ok) => server.close(ok)));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/models/${fileName}`;

  const catalog = WEIGHTS_CATALOG as WeightsEntry[];
  catalog.push({ ...findWeights(ARCH, 'IMAGENET1K_V1'), name: VARIANT, isDefault: false, url, fileName, sha256Prefix: hash });
  t.after(() => { catalog.splice(catalog.findIndex((w) => w.name === VARIANT), 1); });

  const data = join(dir, 'data');
  for (const split of ['train', 'val']) {
    for (const cls of readdirSync(join(sample, split))) {
      mkdirSync(join(data, split, cls), { recursive: true });
      for (const f of readdirSync(join(sample, split, cls)).sort().slice(0, 3)) copyFileSync(join(sample, split, cls, f), join(data, split, cls, f));
    }
  }
  const out = join(dir, 'model');
  const { summary } = await train(data, { model: ARCH, weights: VARIANT, mode: 'frozen', epochs: 1, batchSize: 4, views: 1, featureCache: false }, { out });
  assert.ok(Number.isFinite(summary.best_val_loss), `validation loss ${summary.best_val_loss}`);

  assert.deepEqual(requests, [`/models/${fileName}`], 'one download');
  assert.deepEqual(readdirSync(join(dir, 'graft', 'checkpoints')), [fileName], 'kept in graft\'s cache under the catalog\'s file name');
  const { model, manifest } = await loadModelFolder(out);
  assert.equal(manifest.pretrained, VARIANT);
  const trained = model.stateDict();
  for (const [k, v] of pretrained) {
    if (k.startsWith('classifier.')) continue;
    assert.deepEqual(trained.get(k)!.data, v.data, `${k}: the served value, kept frozen`);
  }
  assert.deepEqual([...trained.get('classifier.1.weight')!.shape], [2, 1280], 'a new two-class head');

  // Asked again, the weights come from graft's cache without a request.
  await createModel(ARCH, { weights: VARIANT });
  assert.equal(requests.length, 1);
});
