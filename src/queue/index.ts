/** graft/queue: shards of `embed` and `predict --batch` as BullMQ jobs on Redis, and the worker that runs them. */
export { redisQueue, jobId, type RedisQueueOptions } from './redis-queue.ts';
export { startWorker, type WorkerOptions, type RunningWorker } from './worker.ts';
export { redisConnection, QUEUE_NAME } from './connection.ts';
