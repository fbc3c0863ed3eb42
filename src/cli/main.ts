#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { choiceText, expectedMessage, rangeText } from '../errors/index.ts';
import { modelsCommand } from './models.ts';
import { predictCommand } from './predict.ts';
import { trainCommand } from './train.ts';
import { evalCommand } from './eval.ts';
import { exportCommand, exportFormat } from './export.ts';
import type { ServeFlags } from './serve.ts';
import type { UiFlags } from './ui.ts';
import type { EmbedFlags } from './embed.ts';
import type { PredictBatchFlags } from './predict-batch.ts';
import type { WorkerFlags } from './worker.ts';
import { registerDoctor } from './doctor.ts';
import { graftPackage } from '../jobs/version.ts';

/** The graft command: each subcommand lives in its own file. */
const program = new Command();
program
  .name('graft')
  .description('Transfer learning for TypeScript: pretrained ImageNet networks, new heads, trained on a CPU.')
  .version(graftPackage.version)
  .showHelpAfterError();

/**
 * Option parsers that name the option and the valid range, worded by the library's message factory
 * and showing the text as typed. Commander prints an InvalidArgumentError as a usage error.
 */
const integer = (name: string, min: number) => (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < min) throw new InvalidArgumentError(expectedMessage(name, rangeText('integer', { min }), v));
  return n;
};
const positiveInt = (name: string) => integer(name, 1);
const nonNegativeInt = (name: string) => integer(name, 0);
const executorChoice = (v: string) => {
  if (v !== 'inline' && v !== 'workers') throw new InvalidArgumentError(expectedMessage('--executor', choiceText(['inline', 'workers']), v));
  return v;
};

program.command('models')
  .description('list the architectures and their pretrained weight variants')
  .option('--json', 'print JSON')
  .action(modelsCommand);

program.command('predict')
  .description('classify images with a zoo model (ImageNet weights) or a trained model folder; --batch: any number of images, in resumable shards')
  .argument('[images...]', 'image files')
  .requiredOption('--model <arch|dir>', 'a trained model folder, or an architecture such as resnet50 or mobilenet_v2')
  .option('--weights <file|variant>', 'a .pth or .safetensors file, or a variant such as IMAGENET1K_V2', 'DEFAULT')
  .option('--topk <k>', 'classes to show per image', positiveInt('--topk'), 5)
  .option('--batch-size <n>', 'images per forward pass', positiveInt('--batch-size'), 16)
  .option('--json', 'print JSON: [{"file", "top": [{"index", "label", "prob"}]}]')
  .option('--batch <list|folder>', 'classify every image of a folder or list file (one path a line), in shards, into --out')
  .option('--out <results>', '--batch: results.jsonl or results.csv (parts kept in <results>.parts/ until all are done)')
  .option('--shard-size <n>', '--batch: images per shard', positiveInt('--shard-size'), 256)
  .option('--shard <I/N>', '--batch: run only shard slice I of N (an array job index, JOB_COMPLETION_INDEX)')
  .option('--queue <redis-url>', '--batch: enqueue the shards for graft worker processes (redis://host:port)')
  .option('--attempts <n>', '--queue: attempts per shard', positiveInt('--attempts'), 3)
  .option('--backoff-ms <n>', '--queue: delay before the first retry, doubled for each next one', positiveInt('--backoff-ms'), 1000)
  .option('--quiet', '--batch: no progress output')
  .action(async (images: string[], flags: PredictBatchFlags) => {
    if (flags.batch === undefined) {
      if (images.length === 0) throw new InvalidArgumentError('give image files, or --batch <list|folder> --out <results>');
      return predictCommand(images, flags);
    }
    if (images.length) throw new InvalidArgumentError(`--batch reads its images from ${flags.batch}; do not list images as well`);
    return (await import('./predict-batch.ts')).predictBatchCommand(flags);
  });

const number = (name: string) => (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(expectedMessage(name, 'number', v));
  return n;
};

program.command('train')
  .description('train a classifier on a folder of images (class per subfolder; train/ and val/ subfolders, train/ alone or with test/, or one folder split); a test/ split is evaluated at the end')
  .argument('[data]', 'image folder (or --features)')
  .option('--features <dir>', 'train the head on features computed by graft embed (the model, seed, augmentation and views are theirs)')
  .option('--model <arch>', 'architecture (graft models lists them), or onnx:<file>[#tensor] / tfjs:<model.json> / hf:<org>/<name> / timm:<name> (default mobilenet_v2)')
  .option('--weights <file|variant>', 'pretrained weights: a variant (DEFAULT, IMAGENET1K_V1, ...), a .pth/.safetensors file, or none (default DEFAULT)')
  .option('--mode <mode>', 'frozen (new head on a fixed backbone), finetune (train everything), two-stage (frozen, then everything)', 'frozen')
  .option('--unfreeze <n>', 'also train the last n backbone blocks', nonNegativeInt('--unfreeze'))
  .option('--epochs <n>', 'epochs (default 15)', positiveInt('--epochs'))
  .option('--frozen-epochs <n>', 'two-stage: epochs of the frozen stage (default 3)', nonNegativeInt('--frozen-epochs'))
  .option('--batch-size <n>', 'images per step (default 32)', positiveInt('--batch-size'))
  .option('--lr <x>', 'learning rate (default 1e-3)', number('--lr'))
  .option('--optimizer <name>', 'sgd, adam or adamw (default adamw)')
  .option('--momentum <x>', 'SGD momentum (default 0.9)', number('--momentum'))
  .option('--weight-decay <x>', 'weight decay (default 1e-4)', number('--weight-decay'))
  .option('--scheduler <name>', 'none, step, cosine or onecycle (default cosine)')
  .option('--step-size <n>', 'step scheduler: epochs between decays (default 7)', positiveInt('--step-size'))
  .option('--gamma <x>', 'step scheduler: decay factor (default 0.1)', number('--gamma'))
  .option('--augment <level>', 'none, light (random crop + flip) or standard (+ TrivialAugment) (default light)')
  .option('--views <n>', 'augmented views cached per image with a frozen backbone (default 5)', positiveInt('--views'))
  .option('--label-smoothing <x>', 'label smoothing (default 0)', number('--label-smoothing'))
  .option('--patience <n>', 'stop after n epochs without improvement (default 0: never)', nonNegativeInt('--patience'))
  .option('--val-split <f>', 'share held out for validation (from train/ or the folder) when there is no val/ (default 0.2)', number('--val-split'))
  .option('--seed <n>', 'seed for shuffling, augmentation and the new head (default 0)', nonNegativeInt('--seed'))
  .option('--no-cache', 'do not keep backbone features on disk')
  .option('--cache-dir <dir>', 'feature cache folder (default: ~/.cache/graft/features)')
  .option('--strict', 'stop at the first unreadable image instead of skipping it')
  .option('--resume', 'continue an interrupted run from its last completed epoch')
  .requiredOption('--out <dir>', 'folder for the trained model, its report and checkpoints')
  .option('--json', 'print one JSON object with the results')
  .option('--quiet', 'no progress output')
  .action(trainCommand);

program.command('embed')
  .description('compute frozen-backbone features of every image (and augmented views) into safetensors shards with a manifest, for graft train --features')
  .argument('<data>', 'image folder, split as graft train splits it')
  .option('--model <spec>', 'architecture, or onnx:<file>[#tensor] / tfjs:<model.json> / hf:<org>/<name> / timm:<name> (default mobilenet_v2)')
  .option('--weights <file|variant>', 'pretrained weights, or none (default DEFAULT)')
  .option('--views <k>', 'augmented views per training image (default 5)', positiveInt('--views'))
  .option('--augment <level>', 'none, light or standard, as graft train (default light)')
  .option('--seed <n>', 'seed of the split and the views (default 0)', nonNegativeInt('--seed'))
  .option('--val-split <f>', 'share held out for validation when there is no val/ (default 0.2)', number('--val-split'))
  .requiredOption('--out <features-dir>', 'folder for the shards and manifest.json')
  .option('--shard-size <n>', 'images per shard', positiveInt('--shard-size'), 256)
  .option('--shard <I/N>', 'run only shard slice I of N (an array job index, JOB_COMPLETION_INDEX)')
  .option('--queue <redis-url>', 'enqueue the shards for graft worker processes (redis://host:port)')
  .option('--attempts <n>', '--queue: attempts per shard', positiveInt('--attempts'), 3)
  .option('--backoff-ms <n>', '--queue: delay before the first retry, doubled for each next one', positiveInt('--backoff-ms'), 1000)
  .option('--json', 'print JSON')
  .option('--quiet', 'no progress output')
  .action(async (data: string, flags: EmbedFlags) => (await import('./embed.ts')).embedCommand(data, flags));

program.command('worker')
  .description('take shards of graft embed --queue and graft predict --batch --queue from Redis until stopped')
  .requiredOption('--queue <redis-url>', 'the Redis server (redis://host:port)')
  .option('--concurrency <n>', 'shards at once', positiveInt('--concurrency'), 1)
  .option('--lock-ms <n>', 'a shard of a worker that stops answering goes to another after this long', positiveInt('--lock-ms'), 30000)
  .option('--executor <where>', 'workers: ONNX Runtime on a worker thread, the event loop free for the lock; inline: on the main thread, as graft embed, for batches far shorter than --lock-ms', executorChoice, 'workers')
  .option('--model <spec>', 'before taking shards, load this model and compile its session: a backbone as graft embed --model (its decoding threads started too), or a trained model folder for predict --batch (repeat for several)', (v: string, all: string[]) => [...all, v], [] as string[])
  .option('--weights <file|variant>', '--model: pretrained weights, or none, as graft embed --weights (default DEFAULT)')
  .action(async (flags: WorkerFlags) => (await import('./worker.ts')).workerCommand(flags));

program.command('eval')
  .description('evaluate a trained model folder on labelled images (test/ or val/ if present)')
  .argument('<model-dir>', 'a folder written by graft train')
  .argument('<data>', 'image folder with class subfolders')
  .option('--batch-size <n>', 'images per forward pass', positiveInt('--batch-size'), 32)
  .option('--json', 'print JSON')
  .action(evalCommand);

program.command('export')
  .description('export a trained model folder: ONNX for deployment (browsers included), a PyTorch checkpoint, or safetensors')
  .argument('<model-dir>', 'a folder written by graft train')
  .requiredOption('--format <format>', 'onnx, pytorch (a .pth torchvision loads) or safetensors', exportFormat)
  .requiredOption('--out <file>', 'the file to write')
  .option('--with-preprocessing', 'onnx: take uint8 RGB images [N, H, W, 3] of any size and resize, crop and normalize in the graph')
  .option('--softmax', 'onnx: output probabilities instead of logits')
  .option('--no-verify', 'onnx: skip running the exported graph against graft at batch sizes 1 and 3')
  .option('--json', 'print JSON')
  .action(exportCommand);

program.command('serve')
  .description('serve models over HTTP: the Open Inference Protocol (KServe v2) and TorchServe\'s POST /predictions/{name}')
  .argument('<models...>', 'trained model folders or zoo names (ImageNet weights); name=<folder|arch> serves one under another name')
  .option('--host <address>', 'address to listen on (another machine can reach the server only if you say so)', '127.0.0.1')
  .option('--port <n>', 'port (0: any free one)', nonNegativeInt('--port'), 8080)
  .option('--weights <file|variant>', 'zoo models: weights variant or file', 'DEFAULT')
  .option('--workers <n>', 'worker threads running ONNX Runtime (batches in parallel)', positiveInt('--workers'), 1)
  .option('--decode-workers <n>', 'worker threads decoding images, per model (default: 2, or 1 on one core)', positiveInt('--decode-workers'))
  .option('--max-batch <n>', 'images per forward pass at most', positiveInt('--max-batch'), 16)
  .option('--max-wait-ms <n>', 'how long a batch may wait for more images while more are coming', nonNegativeInt('--max-wait-ms'), 5)
  .option('--max-queue <n>', 'images per model in flight at most; beyond it requests get 503 with Retry-After', positiveInt('--max-queue'), 128)
  .option('--timeout-ms <n>', 'a request still unanswered after this long gets 503', positiveInt('--timeout-ms'), 30000)
  .option('--max-body-mb <x>', 'largest request body, in MiB (413 above)', number('--max-body-mb'), 16)
  .option('--max-pixels <n>', 'largest image, in pixels (413 above; checked before decoding)', positiveInt('--max-pixels'), 40_000_000)
  .option('--topk <k>', 'classes per answer of /predictions', positiveInt('--topk'), 5)
  .option('--token <token>', 'require "Authorization: Bearer <token>" (default: $GRAFT_TOKEN; health probes stay open)')
  .option('--cors <origin>', 'let browsers on this origin call the server')
  .option('--json', 'log one JSON line per request on stdout')
  // Loaded only for this command: the HTTP stack is not every command's start-up cost.
  .action(async (models: string[], flags: ServeFlags) => (await import('./serve.ts')).serveCommand(models, flags));

program.command('ui')
  .description('a local web app to collect and label images, train, inspect, test and export models, on a project folder')
  .argument('[project-dir]', 'the project folder (data/<class>/ images, runs/); a missing or empty one becomes a new project', '.')
  .option('--port <n>', 'port (0: any free one)', nonNegativeInt('--port'), 0)
  .option('--host <address>', 'address to listen on', '127.0.0.1')
  .option('--token <token>', 'the token the URL carries (default: $GRAFT_UI_TOKEN, else a random one)')
  .option('--no-open', 'do not open a browser')
  .action(async (dir: string, flags: UiFlags) => (await import('./ui.ts')).uiCommand(dir, flags));

registerDoctor(program);

// `graft models | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

program.parseAsync().catch((e: Error) => {
  process.stderr.write(`graft: ${e.message}\n`);
  process.exit(1);
});
