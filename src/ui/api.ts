/**
 * The web app's HTTP API: what the server (src/ui/) answers and the front end (web/) asks, as
 * types both sides import. Every request carries the project's token: the `token` query parameter
 * of the printed URL (the server then sets the `graft_ui` cookie, HttpOnly, SameSite=Strict), the
 * cookie, or `Authorization: Bearer <token>`; anything else is answered 403.
 *
 * Images are named by an id: their path below the project's data folder, with `/` separators
 * (`ants/0001.jpg`, or `train/ants/0001.jpg` in a train/ + val/ layout). Ids that leave the data
 * folder, name a hidden file or a file that is not an image are refused (400) before any file is
 * touched. Errors answer `ApiError` with the matching status.
 *
 * Routes (all JSON unless said otherwise):
 *   GET    /                         the app (index.html); GET /assets/* its built files
 *   GET    /api/project              Project
 *   POST   /api/classes              { name } -> ClassInfo            (201; 409 when it exists)
 *   PATCH  /api/classes/:name        { name } -> ClassInfo            (rename; 409 when taken)
 *   DELETE /api/classes/:name        -> { deleted: number }           (the folder and its images)
 *   GET    /api/images?class=&split=&offset=&limit=   -> ImagePage   (limit <= 500)
 *   GET    /api/images/thumb?id=     a WebP thumbnail (made once by sharp, cached under .graft/)
 *   GET    /api/images/file?id=      the original bytes
 *   POST   /api/images               multipart: field `class`, then files -> UploadResult
 *                                     (400 when no file was added: ApiError and UploadResult in one body)
 *   POST   /api/images/move          MoveRequest -> { moved: ImageInfo[] }   (relabel)
 *   POST   /api/images/delete        { ids } -> { deleted: number }
 *   GET    /api/models               BackboneChoice[] (the zoo, bundled and imported backbones)
 *   GET    /api/runs                 RunInfo[] (newest first)
 *   POST   /api/runs                 StartRun -> RunInfo              (201; 409 while a run is going)
 *   GET    /api/runs/:run            RunDetail
 *   POST   /api/runs/:run/stop       -> RunInfo
 *   DELETE /api/runs/:run            -> { deleted: true }
 *   GET    /api/runs/:run/inspect    Inspection (computed once per run, then cached)
 *   POST   /api/runs/:run/predict    multipart with one image, or the raw image bytes -> TestPrediction (413 over the pixel limit)
 *   POST   /api/runs/:run/export     { format } -> ExportInfo         (409 when the model has no such form)
 *   GET    /api/runs/:run/download?file=   a file ExportInfo named (attachment)
 *   POST   /api/runs/:run/serve      -> ServeInfo (starts graft serve's server for this model)
 *   DELETE /api/runs/:run/serve      -> { stopped: true }
 *   GET    /api/events               text/event-stream of UiEvent (`data: <json>\n\n`)
 */
import type { TrainConfig } from '../train/config.ts';
import type { EpochRecord } from '../train/history.ts';
import type { ExportFormat } from '../jobs/export.ts';

export interface ApiError { error: string; statusCode: number }

/** A file the data scan or an upload could not use, with the reason, by name. */
export interface BadFile { id: string; reason: string }

export interface ClassInfo {
  name: string;
  count: number;
  /** Up to four image ids for the card. */
  samples: string[];
}

export interface Project {
  /** The project folder's name (not its path). */
  name: string;
  /** 'folders': data/<class>/; 'splits': an existing data/train/<class> + data/val/<class> layout, used as it is. */
  layout: 'folders' | 'splits';
  classes: ClassInfo[];
  images: number;
  bad: BadFile[];
}

export interface ImageInfo {
  id: string;
  class: string;
  /** 'train' | 'val' | 'test' in the splits layout; null in the folders layout. */
  split: string | null;
  bytes: number;
}

export interface ImagePage { total: number; offset: number; images: ImageInfo[] }

export interface UploadResult { added: ImageInfo[]; rejected: BadFile[] }

export interface MoveRequest { ids: string[]; class: string }

export interface BackboneChoice {
  /** The model spec `graft train --model` takes. */
  spec: string;
  label: string;
  /** Whether training with it needs a download this machine has not made yet. */
  needsDownload: boolean;
  params: number | null;
  acc1: number | null;
  resize: number | null;
  crop: number | null;
  isDefault: boolean;
}

export type RunStatus = 'running' | 'done' | 'stopped' | 'failed';

/** The run's live progress: the last event of each kind, enough to redraw the page after a reload. */
export interface RunProgress {
  phase: string;
  epoch: number;
  epochs: number;
  /** Feature extraction: images done of total, when it is going. */
  features: { split: 'train' | 'val'; done: number; total: number } | null;
  step: { epoch: number; step: number; steps: number; loss: number } | null;
  imagesPerSecond: number | null;
  etaSeconds: number | null;
}

export interface RunInfo {
  /** Its folder under runs/. */
  id: string;
  status: RunStatus;
  model: string;
  mode: TrainConfig['mode'];
  createdAt: string;
  finishedAt: string | null;
  bestAcc: number | null;
  bestEpoch: number | null;
  error: string | null;
  progress: RunProgress | null;
}

export interface RunDetail extends RunInfo {
  config: TrainConfig;
  classes: string[];
  history: EpochRecord[];
  /** Per-step losses so far (epoch, step within epoch, loss), for the live loss curve. */
  steps: { epoch: number; step: number; loss: number }[];
}

/** What the train form sends: any TrainConfig field (validated as graft train validates them). */
export interface StartRun { config: Partial<TrainConfig>; name?: string }

export interface ClassScore { class: string; precision: number; recall: number; f1: number; support: number }

export interface ImagePrediction { id: string; actual: string; predicted: string; prob: number }

export interface Inspection {
  classes: string[];
  /** [actual][predicted] counts on the validation split of the run. */
  confusion: number[][];
  perClass: ClassScore[];
  /** Every validation image's prediction; the front end filters them for a confusion-matrix cell. */
  predictions: ImagePrediction[];
  /** Wrong predictions, most confident first. */
  confidentlyWrong: ImagePrediction[];
  /** Images whose nearest neighbours in the backbone's feature space mostly carry another label. */
  likelyMislabeled: { id: string; label: string; suggested: string; agreement: number }[];
  /** Pairs of images in different classes whose features are nearly the same (cosine similarity). */
  nearDuplicates: { a: string; b: string; similarity: number }[];
}

export interface TestPrediction { top: { label: string; prob: number }[] }

export type ExportChoice = ExportFormat | 'zip';

export interface ExportInfo { format: ExportChoice; file: string; bytes: number; url: string }

export interface ServeInfo { url: string; model: string }

export type UiEvent =
  | { type: 'project'; project: Project }
  | { type: 'run'; run: RunInfo }
  | { type: 'epoch'; run: string; record: EpochRecord }
  | { type: 'step'; run: string; epoch: number; step: number; loss: number }
  | { type: 'log'; run: string; line: string };
