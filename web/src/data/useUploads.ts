import { useRef, useState } from 'preact/hooks';
import type { BadFile } from '../../../src/ui/api.ts';
import { api, ApiFailure } from '../api.ts';
import type { NamedFile } from './files.ts';

export interface UploadStatus { cls: string; done: number; total: number; added: number; rejected: BadFile[]; error: string | null }

/** Files per request and bytes per request: each answer moves the progress on, none is huge. */
const BATCH_FILES = 25;
const BATCH_BYTES = 8 * 1024 * 1024;

function batches(files: NamedFile[]): NamedFile[][] {
  const out: NamedFile[][] = [];
  let current: NamedFile[] = [];
  let size = 0;
  for (const f of files) {
    if (current.length && (current.length >= BATCH_FILES || size + f.blob.size > BATCH_BYTES)) {
      out.push(current);
      current = [];
      size = 0;
    }
    current.push(f);
    size += f.blob.size;
  }
  if (current.length) out.push(current);
  return out;
}

/**
 * Uploads to a class, one request at a time in the order asked (webcam frames queue behind a
 * dropped folder), with the progress and every refused file's reason.
 */
export function useUploads(): { status: UploadStatus | null; send: (cls: string, files: NamedFile[]) => Promise<void> } {
  const [status, setShown] = useState<UploadStatus | null>(null);
  const latest = useRef<UploadStatus | null>(null);
  const setStatus = (s: UploadStatus) => { latest.current = s; setShown(s); };
  const queue = useRef(Promise.resolve());
  const send = (cls: string, files: NamedFile[]) => {
    if (files.length === 0) return queue.current;
    queue.current = queue.current.then(async () => {
      // Uploads to the same class add up (webcam frames come in small groups), until another class is chosen.
      const before = latest.current;
      let s: UploadStatus = before && before.cls === cls && !before.error
        ? { ...before, total: before.total + files.length }
        : { cls, done: 0, total: files.length, added: 0, rejected: [], error: null };
      setStatus(s);
      for (const batch of batches(files)) {
        const form = new FormData();
        form.append('class', cls);
        for (const f of batch) form.append('file', f.blob, f.name);
        try {
          const result = await api.upload(form);
          s = { ...s, added: s.added + result.added.length, rejected: [...s.rejected, ...result.rejected] };
        } catch (e) {
          const body = e instanceof ApiFailure ? (e.body as { rejected?: BadFile[] } | null) : null;
          s = body?.rejected ? { ...s, rejected: [...s.rejected, ...body.rejected] } : { ...s, error: (e as Error).message };
        }
        s = { ...s, done: s.done + batch.length };
        setStatus(s);
        if (s.error) break;
      }
    });
    return queue.current;
  };
  return { status, send };
}
