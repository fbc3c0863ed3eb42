import { useEffect, useState } from 'preact/hooks';
import type { TestPrediction } from '../../../src/ui/api.ts';
import { api } from '../api.ts';
import { droppedFiles, pastedFiles, pickedFiles, type NamedFile } from '../data/files.ts';
import { RunPicker, type Picker } from '../RunPicker.tsx';
import { LiveTest } from './LiveTest.tsx';
import { TopK } from './TopK.tsx';

/** The Test page: one image (dropped, pasted or picked) or the live webcam, classified by the chosen run. */
export function TestPage({ picker }: { picker: Picker }) {
  const run = picker.selected;
  const [image, setImage] = useState<{ url: string; name: string } | null>(null);
  const [prediction, setPrediction] = useState<TestPrediction | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [live, setLive] = useState(false);
  const [over, setOver] = useState(false);

  const classify = async (files: NamedFile[]) => {
    const file = files[0];
    if (!file || !run) return;
    setLive(false);
    setError(null);
    setPrediction(null);
    setImage((old) => { if (old) URL.revokeObjectURL(old.url); return { url: URL.createObjectURL(file.blob), name: file.name }; });
    try {
      setPrediction(await api.predict(run.id, file.blob));
    } catch (e) {
      setError((e as Error).message);
    }
  };
  useEffect(() => {
    const paste = (e: ClipboardEvent) => {
      const files = pastedFiles(e.clipboardData);
      if (files.length) { e.preventDefault(); void classify(files); }
    };
    addEventListener('paste', paste);
    return () => removeEventListener('paste', paste);
  }, [run?.id]);

  return (
    <div class="test-page">
      <header class="page-head"><h2>Test</h2><RunPicker picker={picker} /></header>
      {run ? (
        <>
          <div
            class={`dropzone${over ? ' over' : ''}`} data-testid="test-dropzone"
            onDragOver={(e) => { e.preventDefault(); setOver(true); }}
            onDragLeave={() => setOver(false)}
            onDrop={async (e) => { e.preventDefault(); setOver(false); if (e.dataTransfer) await classify(await droppedFiles(e.dataTransfer)); }}
          >
            <span>Drop or paste an image, or</span>
            <label class="button">
              pick one
              <input type="file" accept="image/*" hidden data-testid="test-file-input"
                onChange={(e) => { const el = e.target as HTMLInputElement; void classify(pickedFiles(el.files)); el.value = ''; }} />
            </label>
            <button type="button" onClick={() => setLive(!live)} data-testid="live-toggle">{live ? 'Stop the webcam' : 'Live webcam'}</button>
          </div>
          {error ? <p class="error" data-testid="test-error">{error}</p> : null}
          {live ? <LiveTest run={run.id} /> : image ? (
            <div class="test-result">
              <img src={image.url} alt={image.name} class="test-image" />
              <div>
                <p><code data-testid="test-image-name">{image.name}</code></p>
                {prediction ? <TopK prediction={prediction} /> : error ? null : <p class="muted">Classifying…</p>}
              </div>
            </div>
          ) : null}
        </>
      ) : null}
    </div>
  );
}
