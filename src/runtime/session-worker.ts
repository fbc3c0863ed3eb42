import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { createSession, type Executable } from './session.ts';
import { packOutputs, toOrtTensors, SESSION_WORKER_ROLE, type FromWorker, type ToWorker } from './worker-messages.ts';

/**
 * One thread of the session pool: holds the sessions created in it, by the pool's session id, and
 * runs them when asked. Messages are handled one at a time, in order: a release that arrives
 * while a run is being set up waits for that run.
 */
function serve(port: MessagePort): void {
  const sessions = new Map<number, Promise<Executable>>();
  const reply = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

  async function handle(m: Exclude<ToWorker, { kind: 'exit' }>): Promise<void> {
    if (m.kind === 'release') {
      const s = sessions.get(m.session);
      sessions.delete(m.session);
      await s?.then((e) => e.release()).catch(() => {});
      reply({ kind: 'done', id: m.id, holds: false, outputs: null, staging: null, lent: [], error: null });
      return;
    }
    // The staging buffer and the lent ones go back with every answer, to be filled again.
    const back = [...(m.staging ? [m.staging] : []), ...m.lent];
    const done = { kind: 'done', id: m.id, staging: m.staging, lent: m.lent } as const;
    try {
      let session = sessions.get(m.session);
      if (!session) {
        if (!m.model) throw new Error(`Internal: worker has no session ${m.session} and was sent no model`);
        session = createSession(m.model, m.options);
        sessions.set(m.session, session);
      }
      const executable = await session.catch((e: unknown) => {
        sessions.delete(m.session);
        throw e;
      });
      if (!m.feeds) {
        reply({ ...done, holds: true, outputs: null, error: null }, back);
        return;
      }
      const { wire, transfer } = packOutputs(await executable.run(toOrtTensors(m.feeds)), back);
      reply({ ...done, holds: true, outputs: wire, error: null }, [...transfer, ...back]);
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      reply({ ...done, holds: sessions.has(m.session), outputs: null, error: { name: error.name, message: error.message } }, back);
    }
  }

  let queue = Promise.resolve();
  port.on('message', (m: ToWorker) => {
    if (m.kind === 'exit') process.exit(m.code);
    queue = queue.then(() => handle(m));
  });
  reply({ kind: 'ready' });
}

if (parentPort && (workerData as { role?: string } | null)?.role === SESSION_WORKER_ROLE) serve(parentPort);
