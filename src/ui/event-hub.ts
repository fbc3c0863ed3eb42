import type { ServerResponse } from 'node:http';
import type { UiEvent } from './api.ts';

export interface EventHubOptions {
  /** Bytes a client may have waiting in its socket before it is dropped as too slow. */
  maxBacklogBytes: number;
  /** A comment line this often keeps proxies and the browser from closing an idle stream. */
  heartbeatMs: number;
}

/**
 * The server's events to every open `GET /api/events` stream (server-sent events). A client's
 * backlog is what its socket has not sent yet; one that falls behind by more than
 * `maxBacklogBytes` is dropped (its browser reconnects and reloads the state) rather than held
 * in memory without bound. Nothing waits for clients: runs go on with none connected.
 */
export class EventHub {
  private readonly clients = new Set<ServerResponse>();
  private readonly heartbeat: NodeJS.Timeout;
  dropped = 0;

  constructor(private readonly options: EventHubOptions) {
    this.heartbeat = setInterval(() => this.write(': ping\n\n'), options.heartbeatMs);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /**
   * Takes over a response as an event stream until the client goes away or the hub closes;
   * `initial` goes to this client alone first (the state it reconnects to).
   */
  attach(res: ServerResponse, initial: readonly UiEvent[] = []): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(': connected\n\n');
    for (const event of initial) res.write(`data: ${JSON.stringify(event)}\n\n`);
    this.clients.add(res);
    const gone = () => this.clients.delete(res);
    res.on('close', gone);
    res.on('error', gone);
  }

  publish(event: UiEvent): void {
    this.write(`data: ${JSON.stringify(event)}\n\n`);
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private write(text: string): void {
    for (const res of this.clients) {
      if (res.writableLength > this.options.maxBacklogBytes) {
        this.dropped++;
        this.clients.delete(res);
        res.destroy();
        continue;
      }
      res.write(text);
    }
  }
}
