// `hf:<org>/<name>` not in the Hugging Face cache: downloaded from the hub's URL layout (a mirror
// on a local node:http server: /resolve/ answers with X-Repo-Commit and the ETags, the weights
// redirected to their blob URL as the hub does) into the layout huggingface_hub writes
// (blobs/<etag>, snapshots/<commit>/<file> linking to it, refs/<revision>), hash-checked and
// atomic; read from the cache after that without a request; refused offline.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { models } from '../src/index.ts';
import { downloadFile } from '../src/formats/download.ts';
import { formatModelSpec, parseModelSpec } from '../src/models/model-spec.ts';
import type { VisionTransformer } from '../src/models/vit.ts';
import { deterministicStateDict } from './support/deterministic.ts';
import { MIRROR_COMMIT, startHubMirror, type HubMirror } from './support/hub-mirror.ts';

const golden = JSON.parse(readFileSync(new URL('./fixtures/timm/vit_small_patch14_dinov2.json', import.meta.url), 'utf8')) as
  { repo: string; config: unknown; keys: [string, number[]][] };
const { repo } = golden;
let mirror: HubMirror;
before(async () => { mirror = await startHubMirror(repo, golden.config, golden.keys); });
after(() => mirror.close());

/** Runs `fn` with HF_HOME a new empty folder and HF_ENDPOINT the mirror (plus `env`), then restores both. */
async function withHome(env: Record<string, string>, fn: (repoDir: string) => Promise<void>): Promise<void> {
  const keys = ['HF_HOME', 'HF_HUB_CACHE', 'HF_ENDPOINT', 'HF_HUB_OFFLINE'];
  const saved = Object.fromEntries(keys.map((k) => [k, process.env[k]]));
  const home = mkdtempSync(join(tmpdir(), 'graft-hf-home-'));
  for (const k of keys) delete process.env[k];
  Object.assign(process.env, { HF_HOME: home, HF_ENDPOINT: mirror.endpoint }, env);
  mirror.requests.length = 0;
  try {
    await fn(join(home, 'hub', `models--${repo.replace('/', '--')}`));
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    rmSync(home, { recursive: true, force: true });
    mirror.corrupt = false;
    mirror.announce = null;
  }
}

const noTemps = (dir: string) => assert.deepEqual(existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.tmp')) : [], [], `no temp files in ${dir}`);

test('downloads into an empty HF_HOME in huggingface_hub\'s layout; a second run reads the cache without a request', async () => {
  await withHome({}, async (root) => {
    const m = (await models.createModel(`hf:${repo}`)) as VisionTransformer;
    assert.deepEqual(mirror.requests, [
      `HEAD /${repo}/resolve/main/config.json`, `GET /${repo}/resolve/main/config.json`,
      `HEAD /${repo}/resolve/main/model.safetensors`, `GET /lfs/${mirror.weightsSha256}`,
    ]);
    assert.equal(readFileSync(join(root, 'refs', 'main'), 'utf8'), MIRROR_COMMIT);
    const pointer = join(root, 'snapshots', MIRROR_COMMIT, 'model.safetensors');
    assert.ok(lstatSync(pointer).isSymbolicLink());
    assert.equal(readlinkSync(pointer), join('..', '..', 'blobs', mirror.weightsSha256));
    assert.ok(readFileSync(join(root, 'blobs', mirror.weightsSha256)).equals(mirror.weights));
    assert.equal(readdirSync(join(root, 'blobs')).length, 2, 'the config and the weights');
    noTemps(join(root, 'blobs'));
    assert.deepEqual(Array.from(m.stateDict().get('class_token')!.data as Float32Array),
      Array.from(deterministicStateDict(golden.keys).get('cls_token')!.data as Float32Array), 'the served weights, loaded');

    await models.createModel(`hf:${repo}`);
    assert.equal(mirror.requests.length, 4, 'the second run sent no request');

    // A tag resolving to the same commit: its ref is written, the blobs already there are not fetched again.
    await models.createModel(`hf:${repo}@v1.0`);
    assert.deepEqual(mirror.requests.slice(4), [`HEAD /${repo}/resolve/v1.0/config.json`, `HEAD /${repo}/resolve/v1.0/model.safetensors`]);
    assert.equal(readFileSync(join(root, 'refs', 'v1.0'), 'utf8'), MIRROR_COMMIT);
  });
});

test('a renamed repository\'s relative redirect is followed to the new name; the cache keeps the name asked for', async () => {
  await withHome({}, async (root) => {
    await models.createModel(`hf:${repo}-old`);
    assert.deepEqual(mirror.requests.slice(0, 3), [`HEAD /${repo}-old/resolve/main/config.json`, `HEAD /${repo}/resolve/main/config.json`, `GET /${repo}/resolve/main/config.json`]);
    assert.equal(readFileSync(join(`${root}-old`, 'refs', 'main'), 'utf8'), MIRROR_COMMIT);
  });
});

test('a corrupted body is refused naming the file, and leaves nothing a later run would trust', async () => {
  await withHome({}, async (root) => {
    mirror.corrupt = true;
    await assert.rejects(models.createModel(`hf:${repo}`), (e: Error) => {
      assert.match(e.message, new RegExp(`^Downloaded model\\.safetensors of ${repo.replace('.', '\\.')} from ${mirror.endpoint}/lfs/${mirror.weightsSha256} but its SHA-256 starts with [0-9a-f]{64}, expected ${mirror.weightsSha256}; the file was not kept$`));
      return true;
    });
    assert.ok(!existsSync(join(root, 'blobs', mirror.weightsSha256)), 'no blob under the hash');
    noTemps(join(root, 'blobs'));
    assert.deepEqual(readdirSync(join(root, 'snapshots', MIRROR_COMMIT)), ['config.json'], 'no weights in the snapshot');
    assert.ok(!existsSync(join(root, 'refs', 'main')), 'no ref to an incomplete snapshot');

    // What a killed download would leave (a temp file of a process that is gone) is cleared by the next one.
    const litter = join(root, 'blobs', `.${mirror.weightsSha256}.999999999.deadbeef.tmp`);
    writeFileSync(litter, 'partial');
    mirror.corrupt = false;
    await models.createModel(`hf:${repo}`);
    assert.ok(readFileSync(join(root, 'blobs', mirror.weightsSha256)).equals(mirror.weights), 'the next run downloads it again');
    assert.ok(!existsSync(litter), 'the stale temp file is removed');
  });
});

test('a size past the cap is refused before the body is read, whether the hub or the blob server claims it', async () => {
  await withHome({}, async (root) => {
    mirror.announce = 2 ** 40;
    await assert.rejects(models.createModel(`hf:${repo}`),
      new RegExp(`^Error: Refusing to download model\\.safetensors of ${repo.replace('.', '\\.')}: the hub announces ${2 ** 40} bytes, more than the ${64 * 2 ** 30} accepted$`));
    assert.ok(!mirror.requests.some((r) => r.startsWith('GET /lfs/')), 'the weights were not requested');
    const target = join(root, 'capped');
    await assert.rejects(downloadFile({ url: `${mirror.endpoint}/lfs/${mirror.weightsSha256}`, maxBytes: 1000, label: 'model.safetensors' }, target, ''),
      new RegExp(`the server announces ${mirror.weights.length} bytes, more than the 1000 accepted$`));
    assert.ok(!existsSync(target));
  });
});

test('HF_HUB_OFFLINE=1 refuses to download, naming the model, the missing files and the cache', async () => {
  await withHome({ HF_HUB_OFFLINE: '1' }, async (root) => {
    await assert.rejects(models.createModel(`hf:${repo}`), (e: Error) => {
      assert.ok(e.message.startsWith(`HF_HUB_OFFLINE is set, so graft does not download the Hugging Face model ${repo}@main; config.json and model.safetensors are not in the cache ${join(root, '..')}`), e.message);
      return true;
    });
    assert.deepEqual(mirror.requests, []);
  });
});

test('hf:<org>/<name>@<revision> and timm:<name>@<revision> name a branch, tag or commit, and write back as given', () => {
  assert.deepEqual(parseModelSpec(`hf:${repo}@v1.0`), { kind: 'hub', spec: `hf:${repo}@v1.0`, repo, revision: 'v1.0' });
  const byCommit = parseModelSpec(`timm:${repo.slice(5)}@${MIRROR_COMMIT}`);
  assert.equal(formatModelSpec(byCommit), `hf:${repo}@${MIRROR_COMMIT}`);
  assert.throws(() => parseModelSpec(`hf:${repo}@a@b`), /has more than one @/);
});

test('a repository or revision the hub does not have is an error naming it', async () => {
  await withHome({}, async () => {
    await assert.rejects(models.createModel('hf:timm/no_such_model'), /Could not download config\.json of timm\/no_such_model@main: .* answered HTTP 401 \(no such repository or file, or it is private or gated/);
    await assert.rejects(models.createModel(`hf:${repo}@v9`), new RegExp(`Could not download config\\.json of ${repo.replace('.', '\\.')}@v9: .* answered HTTP 404`));
    await assert.rejects(models.createModel(`hf:${repo}@../main`), /Expected a Hugging Face revision \(a branch, tag or commit\) but received "\.\.\/main"/);
  });
});
