import cliProgress from 'cli-progress';
import type { ShardEvent, ShardJobSummary } from '../jobs/shards/run-shards.ts';

/**
 * One progress bar on stderr over every shard of a run, wherever the shards run (this process or
 * a queue's workers); without a terminal, a line per finished shard. Failed shards are named.
 */
export function shardProgress(label: string, enabled: boolean): { onEvent: (e: ShardEvent) => void; stop: () => void } {
  const tty = enabled && process.stderr.isTTY;
  const bar = new cliProgress.SingleBar({ stream: process.stderr, format: ` ${label} |{bar}| {value}/{total} | {shards} | ETA {eta_formatted}`, hideCursor: true, etaBuffer: 50 }, cliProgress.Presets.shades_classic);
  let active = false;
  let shards = 0;
  let finished = 0;
  const onEvent = (e: ShardEvent) => {
    if (!enabled) return;
    if (e.type === 'plan') {
      shards = e.toRun;
      process.stderr.write(`graft: ${e.shards} shards${e.selected < e.shards ? `, ${e.selected} in this slice` : ''}; ${e.alreadyDone} already done, ${e.toRun} to run\n`);
      if (tty && e.toRun > 0) { bar.start(e.images, 0, { shards: `0/${shards} shards` }); active = true; }
    } else if (e.type === 'progress') {
      if (active) bar.update(e.done, { shards: `${finished}/${shards} shards` });
    } else {
      finished++;
      if (!e.ok) {
        if (active) { bar.stop(); active = false; }
        process.stderr.write(`graft: shard ${e.shard} failed: ${e.error}\n`);
      } else if (!tty) process.stderr.write(`graft: shard ${e.shard} done (${finished}/${shards})\n`);
      if (active) bar.update({ shards: `${finished}/${shards} shards` });
    }
  };
  return { onEvent, stop: () => { if (active) bar.stop(); active = false; } };
}

/** Exit status and last words of a sharded command: 1 when a shard failed, named above. */
export function reportShards(s: ShardJobSummary, what: string, result: string | null): void {
  if (s.failed.length) {
    process.stderr.write(`graft: ${s.failed.length} of ${s.selected} shards failed: ${s.failed.map((f) => f.shard).join(', ')}\n`);
    process.exitCode = 1;
  }
  if (result) process.stderr.write(`graft: ${what}: ${result}\n`);
  else if (!s.failed.length) process.stderr.write(`graft: this slice is done; ${what} is written by the run that finds every shard done (run the command again without --shard to write it now)\n`);
}
