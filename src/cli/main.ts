#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { expectedMessage, rangeText } from '../errors/index.ts';
import { modelsCommand } from './models.ts';
import { predictCommand } from './predict.ts';
import { trainCommand } from './train.ts';
import { evalCommand } from './eval.ts';
import { exportCommand, exportFormat } from './export.ts';
import type { ServeFlags } from './serve.ts';
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

program.command('models')
  .description('list the architectures and their pretrained weight variants')
  .option('--json', 'print JSON')
  .action(modelsCommand);

program.command('predict')
  .description('classify images with a zoo model (ImageNet weights) or a trained model folder')
  .argument('<images...>', 'image files')
  .requiredOption('--model <arch|dir>', 'a trained model folder, or an architecture such as resnet50 or mobilenet_v2')
  .option('--weights <file|variant>', 'a .pth or .safetensors file, or a variant such as IMAGENET1K_V2', 'DEFAULT')
  .option('--topk <k>', 'classes to show per image', positiveInt('--topk'), 5)
  .option('--batch-size <n>', 'images per forward pass', positiveInt('--batch-size'), 16)
  .option('--json', 'print JSON: [{"file", "top": [{"index", "label", "prob"}]}]')
  .action(predictCommand);

const number = (name: string) => (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(expectedMessage(name, 'number', v));
  return n;
};

program.command('train')
  .description('train a classifier on a folder of images (class per subfolder; train/ and val/ subfolders, train/ alone or with test/, or one folder split); a test/ split is evaluated at the end')
  .argument('<data>', 'image folder')
  .option('--model <arch>', 'architecture (graft models lists them), or onnx:<file>[#tensor] / tfjs:<model.json>', 'mobilenet_v2')
  .option('--weights <file|variant>', 'pretrained weights: a variant (DEFAULT, IMAGENET1K_V1, ...), a .pth/.safetensors file, or none', 'DEFAULT')
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
