import type {
  ApiError, BackboneChoice, ClassInfo, ExportChoice, ExportInfo, ImageInfo, ImagePage, Inspection, MoveRequest,
  Project, RunDetail, RunInfo, ServeInfo, StartRun, TestPrediction, UploadResult,
} from '../../src/ui/api.ts';

/** A request the server refused or could not answer, with the server's own message. */
export class ApiFailure extends Error {
  constructor(readonly status: number, message: string, readonly body: unknown) {
    super(message);
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, headers: {} };
  if (body instanceof FormData || body instanceof Blob) {
    init.body = body;
    if (body instanceof Blob) (init.headers as Record<string, string>)['content-type'] = body.type || 'application/octet-stream';
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  const response = await fetch(path, init);
  const text = await response.text();
  const parsed: unknown = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const message = (parsed as ApiError | null)?.error ?? `${method} ${path} answered ${response.status}`;
    throw new ApiFailure(response.status, message, parsed);
  }
  return parsed as T;
}

const q = (params: Record<string, string | number | undefined>) =>
  new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)])).toString();

const runPath = (run: string) => `/api/runs/${encodeURIComponent(run)}`;

export const thumbUrl = (id: string) => `/api/images/thumb?${q({ id })}`;
export const fileUrl = (id: string) => `/api/images/file?${q({ id })}`;

/** The web app's API (src/ui/api.ts) as functions. */
export const api = {
  project: () => call<Project>('GET', '/api/project'),
  addClass: (name: string) => call<ClassInfo>('POST', '/api/classes', { name }),
  renameClass: (from: string, name: string) => call<ClassInfo>('PATCH', `/api/classes/${encodeURIComponent(from)}`, { name }),
  deleteClass: (name: string) => call<{ deleted: number }>('DELETE', `/api/classes/${encodeURIComponent(name)}`),
  images: (params: { class?: string; offset: number; limit: number }) => call<ImagePage>('GET', `/api/images?${q(params)}`),
  upload: (form: FormData) => call<UploadResult>('POST', '/api/images', form),
  move: (request: MoveRequest) => call<{ moved: ImageInfo[] }>('POST', '/api/images/move', request),
  deleteImages: (ids: string[]) => call<{ deleted: number }>('POST', '/api/images/delete', { ids }),
  models: () => call<BackboneChoice[]>('GET', '/api/models'),
  runs: () => call<RunInfo[]>('GET', '/api/runs'),
  startRun: (request: StartRun) => call<RunInfo>('POST', '/api/runs', request),
  run: (run: string) => call<RunDetail>('GET', runPath(run)),
  stopRun: (run: string) => call<RunInfo>('POST', `${runPath(run)}/stop`),
  deleteRun: (run: string) => call<{ deleted: true }>('DELETE', runPath(run)),
  inspect: (run: string) => call<Inspection>('GET', `${runPath(run)}/inspect`),
  predict: (run: string, image: Blob) => call<TestPrediction>('POST', `${runPath(run)}/predict`, image),
  exportModel: (run: string, format: ExportChoice) => call<ExportInfo>('POST', `${runPath(run)}/export`, { format }),
  serve: (run: string) => call<ServeInfo>('POST', `${runPath(run)}/serve`),
  stopServing: (run: string) => call<{ stopped: true }>('DELETE', `${runPath(run)}/serve`),
};
