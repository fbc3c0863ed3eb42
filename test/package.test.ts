// The package as users get it: `npm pack` ships the built library, the command, the bundled
// backbone and sample images, README and LICENSE, and nothing of the tests or sources; the tarball
// installs into an empty project without the network; there `npx graft` answers (--version,
// models, doctor), trains on the bundled sample and predicts, and `import { ... } from 'graft'`
// runs and type-checks. npm says nothing about the repository's own configuration or its
// dependencies' install scripts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { consumerProject } from './support/offline-install.ts';

const root = resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const windows = process.platform === 'win32';
// A consumer's installs must not see this repository's npm settings, which `npm test` exports.
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = cleanEnv): SpawnSyncReturns<string> {
  const r = spawnSync(command, args, { cwd, env, encoding: 'utf8', shell: windows, maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, `${command} ${args.join(' ')} in ${cwd} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

const npmWarnings = (stderr: string) => stderr.split('\n').filter((l) => /^npm warn/i.test(l));

test('the packed tarball installs offline into an empty project, whose graft command trains and predicts and whose import type-checks', { timeout: 240_000 }, async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'graft-package-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));

  // npm pack builds dist/ (the prepare script) and lists what it packed.
  const packed = run('npm', ['pack', '--pack-destination', tmp, '--json'], root, process.env);
  assert.deepEqual(npmWarnings(packed.stderr), [], 'npm warns about nothing in this repository');
  const [info] = JSON.parse(packed.stdout) as { filename: string; entryCount: number; size: number; files: { path: string }[] }[];
  const shipped = info.files.map((f) => f.path);
  const allowed = /^(dist\/.*\.(js|d\.ts)|bin\/graft\.js|assets\/.*|README\.md|LICENSE|package\.json)$/;
  assert.deepEqual(shipped.filter((p) => !allowed.test(p)), [], 'only the library, the command, the assets, README and LICENSE are shipped');
  for (const needed of ['dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'bin/graft.js', 'assets/backbones/mobilenetv2-12-int8.onnx', 'LICENSE', 'README.md']) {
    assert.ok(shipped.includes(needed), `${needed} is shipped`);
  }
  console.log(`# npm pack: ${info.entryCount} files, ${(info.size / 1e6).toFixed(1)} MB packed`);

  const project = join(tmp, 'consumer');
  mkdirSync(project);
  copyFileSync(join(tmp, info.filename), join(project, info.filename));
  // As README tells a user to: graft runs on the CPU, so onnxruntime-node's CUDA download is
  // declined, by allowScripts for npm versions that read it and by the variable for older ones.
  consumerProject(project, info.filename, { allowScripts: { 'onnxruntime-node': false, 'msgpackr-extract': false } });
  const installed = run('npm', ['ci', '--offline', '--no-audit', '--no-fund'], project, { ...cleanEnv, ONNXRUNTIME_NODE_INSTALL: 'skip' });
  assert.deepEqual(npmWarnings(installed.stderr), [], 'the install prints no npm warning');
  assert.deepEqual(readdirSync(join(project, 'node_modules', 'graft')).sort(), ['LICENSE', 'README.md', 'assets', 'bin', 'dist', 'package.json']);

  const graft = (...args: string[]) => run('npx', ['--offline', 'graft', ...args], project).stdout;
  assert.equal(graft('--version').trim(), pkg.version);
  assert.match(graft('models'), /^mobilenet_v2 /m);
  const doctor = JSON.parse(graft('doctor', '--json')) as { ok: boolean; graft: { version: string } };
  assert.deepEqual([doctor.ok, doctor.graft.version], [true, pkg.version]);

  const sample = join('node_modules', 'graft', 'assets', 'sample-data', 'hymenoptera-mini');
  const backbone = `onnx:${join('node_modules', 'graft', 'assets', 'backbones', 'mobilenetv2-12-int8.onnx')}`;
  const summary = JSON.parse(graft('train', sample, '--model', backbone, '--epochs', '2', '--views', '1', '--out', 'model', '--cache-dir', 'model.cache', '--json')) as { best_val_acc: number; train_images: number; val_images: number };
  assert.deepEqual([summary.train_images, summary.val_images], [80, 40]);
  assert.ok(summary.best_val_acc >= 0.7, `validation accuracy ${summary.best_val_acc} on the sample`);
  console.log(`# installed package: sample trained to val acc ${summary.best_val_acc}`);
  const bee = join(sample, 'val', 'bees', readdirSync(join(project, sample, 'val', 'bees')).sort()[0]);
  const [prediction] = JSON.parse(graft('predict', bee, '--model', 'model', '--topk', '2', '--json')) as { top: { label: string; prob: number }[] }[];
  assert.deepEqual(prediction.top.map((x) => x.label).sort(), ['ants', 'bees']);
  assert.ok(Math.abs(prediction.top[0].prob + prediction.top[1].prob - 1) < 1e-5);

  // The library, as a user's code imports it: at run time ...
  writeFileSync(join(project, 'check.mjs'), [
    "import { jobs, models } from 'graft';",
    `const [p] = await jobs.predict('model', [${JSON.stringify(bee)}], { topk: 2 });`,
    "console.log(JSON.stringify({ label: p.top[0].label, zoo: typeof models.resnet50 }));",
  ].join('\n'));
  const fromLibrary = JSON.parse(run(process.execPath, ['check.mjs'], project).stdout) as { label: string; zoo: string };
  assert.equal(fromLibrary.label, prediction.top[0].label);
  assert.equal(fromLibrary.zoo, 'function');

  // ... and to the type checker, which sees graft's declarations (a misuse is an error).
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const source = [
    "import { jobs, models, nn } from 'graft';",
    'const model = await models.mobilenet_v2({ weights: null });',
    'const head: nn.Linear = new nn.Linear(1280, 2);',
    "const loaded = await jobs.loadModel('model');",
    'const labels: readonly string[] | null = loaded.labels;',
    'console.log(typeof model.forward, head.outFeatures, labels?.length);',
  ];
  writeFileSync(join(project, 'index.ts'), source.join('\n'));
  writeFileSync(join(project, 'misuse.ts'), [...source, 'const width: string = head.outFeatures;', 'void width;'].join('\n'));
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: [] },
    files: ['index.ts', 'misuse.ts'],
  }));
  const checked = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: project, encoding: 'utf8' });
  const errors = checked.stdout.split('\n').filter((l) => /error TS/.test(l));
  assert.deepEqual(errors, ["misuse.ts(7,7): error TS2322: Type 'number' is not assignable to type 'string'."], 'index.ts type-checks, and the misuse is caught');
});

test('onnxruntime-node skips its CUDA download when ONNXRUNTIME_NODE_INSTALL=skip, the variable README gives users', () => {
  const script = join(root, 'node_modules', 'onnxruntime-node', 'script', 'install.js');
  // With the network unreachable, a download attempt would fail or hang; skipping returns at once.
  const out = execFileSync(process.execPath, [script], {
    cwd: join(root, 'node_modules', 'onnxruntime-node'), encoding: 'utf8', timeout: 20_000,
    env: { ...cleanEnv, ONNXRUNTIME_NODE_INSTALL: 'skip', GLOBAL_AGENT_HTTPS_PROXY: 'http://127.0.0.1:9', HTTPS_PROXY: 'http://127.0.0.1:9' },
  });
  assert.equal(out, '', 'nothing downloaded, nothing said');
});

test('this repository declines onnxruntime-node\'s install script in a field npm knows, and leaves no install script unreviewed', () => {
  const allowScripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> }).allowScripts;
  assert.equal(allowScripts?.['onnxruntime-node'], false);
  const help = spawnSync('npm', ['help', 'install-scripts'], { cwd: root, env: cleanEnv, encoding: 'utf8', shell: windows });
  if (help.status !== 0) return; // An npm without allowScripts runs the script; the variable then skips its download.
  const ls = run('npm', ['install-scripts', 'ls'], root, cleanEnv);
  assert.deepEqual(npmWarnings(ls.stderr), []);
  assert.match(ls.stdout, /No packages with unreviewed install scripts/);
});
