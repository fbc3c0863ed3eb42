/**
 * The worker pool's queue is full: the caller should back off (a server answers 503 with
 * Retry-After) rather than pile more work onto a busy machine.
 */
export class RuntimeBusyError extends Error {
  override readonly name = 'RuntimeBusyError';
  constructor(readonly waiting: number, readonly workers: number) {
    super(`The runtime's worker pool is busy: ${waiting} runs already wait for its ${workers} worker${workers === 1 ? '' : 's'} (maxQueuedRuns); retry later or raise maxQueuedRuns`);
  }
}

/** A worker thread stopped while it held a run: the run is lost (not retried) and the worker replaced. */
export class WorkerCrashError extends Error {
  override readonly name = 'WorkerCrashError';
  constructor(readonly worker: number, readonly session: string, readonly exitCode: number, cause?: Error) {
    super(`ONNX Runtime worker ${worker} stopped (exit code ${exitCode}${cause ? `, ${cause.message}` : ''}) while running ${session}; `
      + 'the run was not retried and a fresh worker took its place', cause ? { cause } : undefined);
  }
}
