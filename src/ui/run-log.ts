import { appendFile, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveConfig, type TrainConfig } from '../train/config.ts';
import type { RunStatus } from './api.ts';
import { RunRecord, type RunUpdate } from './run-record.ts';

/** One line of a run's log. */
type LogLine =
  | { t: 'start'; id: string; config: TrainConfig; createdAt: string; pid: number }
  | { t: 'classes'; classes: string[] }
  | { t: 'update'; update: RunUpdate }
  | { t: 'end'; status: Exclude<RunStatus, 'running'>; error: string | null; finishedAt: string };

/**
 * A run's log, `.graft/runs/<id>.jsonl`: its start, every update the pages heard, its end. It is
 * what a reloaded page or a restarted server shows of the run. Lines are appended in order, one
 * write at a time; a write that fails is reported once and the run goes on.
 */
export class RunLog {
  private chain: Promise<void> = Promise.resolve();
  private failed = false;

  constructor(readonly file: string, private readonly onError: (e: Error) => void) {}

  start(run: RunRecord): void {
    this.write({ t: 'start', id: run.id, config: run.config, createdAt: run.createdAt, pid: process.pid });
  }

  classes(classes: readonly string[]): void {
    this.write({ t: 'classes', classes: [...classes] });
  }

  update(update: RunUpdate): void {
    this.write({ t: 'update', update });
  }

  end(run: RunRecord): Promise<void> {
    this.write({ t: 'end', status: run.status as Exclude<RunStatus, 'running'>, error: run.error, finishedAt: run.finishedAt ?? new Date().toISOString() });
    return this.chain;
  }

  private write(line: LogLine): void {
    const text = `${JSON.stringify(line)}\n`;
    this.chain = this.chain.then(() => appendFile(this.file, text)).catch((e: Error) => {
      if (!this.failed) this.onError(e);
      this.failed = true;
    });
  }
}

/**
 * The runs logged in `dir`, rebuilt. A run whose log has no end was going when its server
 * stopped: it shows as stopped when an epoch had finished (its model folder holds that epoch's
 * best), failed otherwise.
 */
export async function readRunLogs(dir: string): Promise<RunRecord[]> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.jsonl'));
  const runs: RunRecord[] = [];
  for (const name of names) {
    const text = await readFile(join(dir, name), 'utf8').catch(() => '');
    let run: RunRecord | null = null;
    let ended = false;
    for (const raw of text.split('\n')) {
      if (!raw.trim()) continue;
      let line: LogLine;
      try {
        line = JSON.parse(raw) as LogLine;
      } catch {
        continue; // a line cut short by a crash
      }
      if (line.t === 'start') {
        try {
          run = new RunRecord(line.id, resolveConfig(line.config), line.createdAt);
        } catch {
          break;
        }
      } else if (!run) {
        break;
      } else if (line.t === 'classes') {
        run.classes = line.classes;
      } else if (line.t === 'update') {
        run.replay(line.update);
      } else if (line.t === 'end') {
        run.finish(line.status, line.error, line.finishedAt);
        ended = true;
      }
    }
    if (!run || `${run.id}.jsonl` !== name) continue;
    if (!ended) {
      run.finish(run.history.length ? 'stopped' : 'failed', 'the server stopped while this run was going');
    }
    runs.push(run);
  }
  return runs;
}
