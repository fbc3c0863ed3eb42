import type { ConnectionOptions } from 'bullmq';

/** The BullMQ queue every graft command and worker shares on a Redis server. */
export const QUEUE_NAME = 'graft-shards';

/** redis://[user:password@]host:port[/db] as ioredis options; a worker needs maxRetriesPerRequest null. */
export function redisConnection(url: string): ConnectionOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RangeError(`Expected redis://host:port for --queue but received ${JSON.stringify(url)}`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new RangeError(`Expected redis://host:port for --queue but received ${JSON.stringify(url)}`);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new RangeError(`Expected a database number after the port in --queue ${url} but received ${JSON.stringify(u.pathname.slice(1))}`);
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    db,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}
