import { startUi, type UiOptions, type UiServer } from '../../src/ui/index.ts';

/** A started web app server and fetch() calls that carry its token. */
export interface UiClient {
  server: UiServer;
  /** fetch() against the server with the token as a bearer header. */
  call(path: string, init?: RequestInit): Promise<Response>;
  json<T = Record<string, unknown>>(path: string, init?: RequestInit): Promise<{ status: number; body: T }>;
  post<T = Record<string, unknown>>(path: string, body: unknown, method?: string): Promise<{ status: number; body: T }>;
  /** A multipart upload of named files to a class. */
  upload<T = Record<string, unknown>>(cls: string, files: { name: string; bytes: Uint8Array }[]): Promise<{ status: number; body: T }>;
}

export async function startUiClient(options: Partial<UiOptions>): Promise<UiClient> {
  const server = await startUi({ port: 0, log: () => {}, ...options });
  const call = (path: string, init: RequestInit = {}) => fetch(`${server.origin}${path}`, {
    ...init, headers: { authorization: `Bearer ${server.token}`, ...(init.headers as Record<string, string> | undefined) },
  });
  const json = async <T>(path: string, init?: RequestInit) => {
    const r = await call(path, init);
    return { status: r.status, body: await r.json() as T };
  };
  return {
    server, call, json,
    post: <T>(path: string, body: unknown, method = 'POST') => json<T>(path, { method, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    upload: <T>(cls: string, files: { name: string; bytes: Uint8Array }[]) => {
      const form = new FormData();
      form.append('class', cls);
      for (const f of files) form.append('file', new Blob([f.bytes]), f.name);
      return json<T>('/api/images', { method: 'POST', body: form });
    },
  };
}
