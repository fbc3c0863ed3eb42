import { useEffect, useState } from 'preact/hooks';
import { BadFiles } from './BadFiles.tsx';
import { droppedFiles, pastedFiles, pickedFiles, type NamedFile } from './files.ts';
import type { UploadStatus } from './useUploads.ts';

interface Props {
  cls: string | null;
  status: UploadStatus | null;
  onFiles: (files: NamedFile[]) => void;
  webcam: boolean;
  onWebcam: (on: boolean) => void;
}

/** Adding images to the chosen class: drop files or folders, pick them, paste them, or the webcam. */
export function Uploader({ cls, status, onFiles, webcam, onWebcam }: Props) {
  const [over, setOver] = useState(false);
  useEffect(() => {
    const paste = (e: ClipboardEvent) => {
      const files = pastedFiles(e.clipboardData);
      if (files.length && cls) {
        e.preventDefault();
        onFiles(files);
      }
    };
    addEventListener('paste', paste);
    return () => removeEventListener('paste', paste);
  }, [cls, onFiles]);

  if (!cls) return <p class="muted">Add a class, then choose it to add images to it.</p>;
  return (
    <div
      class={`dropzone${over ? ' over' : ''}`} data-testid="dropzone"
      onDragOver={(e) => { e.preventDefault(); setOver(true); }}
      onDragLeave={() => setOver(false)}
      onDrop={async (e) => {
        e.preventDefault();
        setOver(false);
        if (e.dataTransfer) onFiles(await droppedFiles(e.dataTransfer));
      }}
    >
      <span>Add images to <strong>{cls}</strong>: drop files or folders here, paste, or</span>
      <label class="button">
        pick files
        <input type="file" accept="image/*" multiple hidden data-testid="file-input"
          onChange={(e) => { const el = e.target as HTMLInputElement; onFiles(pickedFiles(el.files)); el.value = ''; }} />
      </label>
      <label class="button">
        pick a folder
        <input type="file" multiple hidden data-testid="folder-input" {...{ webkitdirectory: '' }}
          onChange={(e) => { const el = e.target as HTMLInputElement; onFiles(pickedFiles(el.files)); el.value = ''; }} />
      </label>
      <button type="button" onClick={() => onWebcam(!webcam)} data-testid="webcam-toggle">{webcam ? 'Close the webcam' : 'Webcam'}</button>
      {status ? (
        <div class="upload-status" data-testid="upload-status" data-done={status.done === status.total ? 'yes' : 'no'}>
          {status.done < status.total ? <progress max={status.total} value={status.done} /> : null}
          <span>{status.added} added to {status.cls}{status.done < status.total ? ` (${status.done} of ${status.total} sent)` : ''}</span>
          {status.error ? <span class="error">{status.error}</span> : null}
          <BadFiles bad={status.rejected} title="Refused" />
        </div>
      ) : null}
    </div>
  );
}
