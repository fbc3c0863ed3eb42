#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { modelsCommand } from './models.ts';
import { predictCommand } from './predict.ts';

/** The graft command: each subcommand lives in its own file. */
const program = new Command();
program
  .name('graft')
  .description('Transfer learning for TypeScript: pretrained ImageNet networks, new heads, trained on a CPU.')
  .version('0.1.0')
  .showHelpAfterError();

export function positiveInt(name: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`Expected integer >= 1 for ${name} but received ${v}`);
    return n;
  };
}

program.command('models')
  .description('list the architectures and their pretrained weight variants')
  .option('--json', 'print JSON')
  .action(modelsCommand);

program.command('predict')
  .description('classify images with a zoo model (ImageNet weights) or a trained model folder')
  .argument('<images...>', 'image files')
  .requiredOption('--model <arch>', 'architecture, e.g. resnet50 or mobilenet_v2')
  .option('--weights <file|variant>', 'a .pth or .safetensors file, or a variant such as IMAGENET1K_V2', 'DEFAULT')
  .option('--topk <k>', 'classes to show per image', positiveInt('--topk'), 5)
  .option('--batch-size <n>', 'images per forward pass', positiveInt('--batch-size'), 16)
  .option('--json', 'print JSON: [{"file", "top": [{"index", "label", "prob"}]}]')
  .action(predictCommand);

program.parseAsync().catch((e: Error) => {
  process.stderr.write(`graft: ${e.message}\n`);
  process.exit(1);
});
