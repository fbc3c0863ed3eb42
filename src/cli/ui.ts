import { spawn } from 'node:child_process';
import { serve } from '../serve/index.ts';
import { startUi } from '../ui/index.ts';

export interface UiFlags {
  port: number;
  host: string;
  token?: string;
  /** Commander's --no-open. */
  open: boolean;
}

/** Whether a browser could show a window here: always on macOS and Windows, with a display elsewhere. */
function hasDisplay(): boolean {
  if (process.platform === 'darwin' || process.platform === 'win32') return true;
  return Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
}

/** Opens the URL in the default browser, detached; a missing opener is not an error. */
function openBrowser(url: string): void {
  const [command, args] = process.platform === 'darwin' ? ['open', [url]]
    : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', url]]
      : ['xdg-open', [url]];
  try {
    const child = spawn(command, args as string[], { detached: true, stdio: 'ignore' });
    child.on('error', () => {});
    child.unref();
  } catch {
    // No opener: the printed URL is enough.
  }
}

/**
 * Runs the web app's server on a project folder until SIGTERM or SIGINT. Its "serve" button
 * starts graft serve's own server for a trained model, on a free port of 127.0.0.1.
 */
export async function uiCommand(projectDir: string | undefined, flags: UiFlags): Promise<void> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const server = await startUi({
    project: projectDir ?? '.',
    host: flags.host,
    port: flags.port,
    token: flags.token ?? process.env.GRAFT_UI_TOKEN ?? null,
    serveModel: async (modelDir) => {
      const s = await serve([{ model: modelDir }], { host: '127.0.0.1', port: 0 });
      return { url: s.url, close: () => s.close() };
    },
    log,
  });
  process.stdout.write(`graft ui: ${server.project}\n  ${server.url}\n`);
  if (flags.open && hasDisplay()) openBrowser(server.url);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    log(`graft ui: ${signal}: stopping`);
    server.close().then(() => process.exit(0), (error: Error) => {
      log(`graft ui: ${error.message}`);
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
