import cliProgress from 'cli-progress';
import type { TrainEvent } from '../train/fit.ts';

/**
 * Live progress for `graft train` on stderr: one bar for feature extraction, one per epoch, with
 * images/s and ETA. Silent when stderr is not a terminal (logs get one line per epoch instead).
 */
export function progressReporter(enabled: boolean): { onEvent: (e: TrainEvent) => void; stop: () => void } {
  const tty = enabled && process.stderr.isTTY;
  const bar = new cliProgress.SingleBar({
    stream: process.stderr,
    format: ' {label} |{bar}| {value}/{total} {unit} | {rate} img/s | ETA {eta_formatted} {extra}',
    barCompleteChar: '█', barIncompleteChar: '░', hideCursor: true, clearOnComplete: false, etaBuffer: 50,
  });
  let active = false;
  let images = 0;
  let t0 = 0;
  const start = (label: string, total: number, unit: string) => {
    if (active) bar.stop();
    images = 0;
    t0 = performance.now();
    if (tty) bar.start(total, 0, { label, unit, rate: '-', extra: '' });
    active = tty;
  };
  const rate = () => (images / Math.max(1e-3, (performance.now() - t0) / 1000)).toFixed(0);
  const log = (line: string) => { if (enabled) { if (active) bar.stop(); active = false; process.stderr.write(`${line}\n`); } };

  const onEvent = (e: TrainEvent) => {
    if (!enabled) return;
    switch (e.type) {
      case 'dataset':
        log(`graft: ${e.classes.length} classes (${e.classes.slice(0, 8).join(', ')}${e.classes.length > 8 ? ', ...' : ''}), ${e.train} training and ${e.val} validation images${e.source === 'split' ? ' (split from one folder)' : e.source === 'train-split' ? ' (validation held out from train/)' : ''}`);
        break;
      case 'features':
        if (e.done === 0) start(`features ${e.split}`.padEnd(14), e.total, 'images');
        images = e.done;
        if (active) bar.update(e.done, { rate: rate() });
        break;
      case 'epoch-start':
        start(`epoch ${e.epoch}/${e.epochs}`.padEnd(14), 1, 'batches');
        break;
      case 'step':
        images += e.report.images;
        if (active) {
          bar.setTotal(e.report.batches);
          bar.update(e.report.batch, { rate: rate(), extra: `loss ${e.report.loss.toFixed(4)}` });
        }
        break;
      case 'epoch-end': {
        const r = e.record;
        if (active) { bar.stop(); active = false; }
        process.stderr.write(`  epoch ${r.epoch} ${r.phase ?? ''}: train loss ${r.train_loss.toFixed(4)} acc ${r.train_acc.toFixed(4)} | val loss ${r.val_loss.toFixed(4)} acc ${r.val_acc.toFixed(4)}${e.improved ? ' *' : ''} | ${r.seconds.toFixed(1)}s\n`);
        break;
      }
      case 'skip': log(`graft: skipping ${e.file}: ${e.reason}`); break;
      case 'cache-off': log(`graft: cannot write the feature cache in ${e.dir} (${e.reason}); continuing without caching`); break;
      case 'resumed': log(`graft: resuming after epoch ${e.epoch}`); break;
      case 'early-stop': log(`graft: no improvement for a while; stopping after epoch ${e.epoch}`); break;
      case 'stopped': log(`graft: stopped after epoch ${e.epoch}; keeping epoch ${e.bestEpoch}, the best so far`); break;
    }
  };
  return { onEvent, stop: () => { if (active) bar.stop(); } };
}
