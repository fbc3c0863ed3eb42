import { useEffect, useState } from 'preact/hooks';
import type { ExportChoice, ExportInfo, ServeInfo } from '../../../src/ui/api.ts';
import { api } from '../api.ts';
import { bytes } from '../format.ts';
import { RunPicker, type Picker } from '../RunPicker.tsx';
import { Snippet } from './Snippet.tsx';
import { nodeSnippet, webSnippet } from './snippets.ts';

const FORMATS: [ExportChoice, string, string][] = [
  ['onnx', 'ONNX', 'preprocessing and softmax inside: uint8 RGB images of any size in, probabilities out; runs in onnxruntime-node and onnxruntime-web'],
  ['pytorch', 'PyTorch (.pth)', 'a state dict torchvision loads'],
  ['safetensors', 'safetensors', 'the weights'],
  ['zip', 'Model folder (.zip)', 'everything graft predict and graft serve read'],
];

const KEY = 'graft-ui:exports:';

/** The files exported for a run from this browser: their links stay after a reload (the server keeps the files). */
function savedExports(run: string): Partial<Record<ExportChoice, ExportInfo>> {
  try {
    return JSON.parse(localStorage.getItem(`${KEY}${run}`) ?? '{}') as Partial<Record<ExportChoice, ExportInfo>>;
  } catch {
    return {};
  }
}

/** The Export page: the model in each format with a download link, code that uses it, and serving it. */
export function ExportPage({ picker }: { picker: Picker }) {
  const run = picker.selected;
  const [exports, setExports] = useState<Partial<Record<ExportChoice, ExportInfo | 'busy' | { error: string }>>>({});
  const [classes, setClasses] = useState<string[]>([]);
  const [serving, setServing] = useState<ServeInfo | 'busy' | { error: string } | null>(null);
  useEffect(() => {
    setExports(run ? savedExports(run.id) : {});
    setServing(null);
    if (run) api.run(run.id).then((d) => setClasses(d.classes)).catch(() => undefined);
  }, [run?.id]);
  if (!run) return <div class="export-page"><header class="page-head"><h2>Export</h2></header><RunPicker picker={picker} /></div>;

  const make = async (format: ExportChoice) => {
    setExports((e) => ({ ...e, [format]: 'busy' }));
    const result = await api.exportModel(run.id, format).catch((x: Error) => ({ error: x.message }));
    setExports((e) => ({ ...e, [format]: result }));
    if ('url' in result) localStorage.setItem(`${KEY}${run.id}`, JSON.stringify({ ...savedExports(run.id), [format]: result }));
  };
  const serve = async () => {
    setServing('busy');
    setServing(await api.serve(run.id).catch((x: Error) => ({ error: x.message })));
  };
  const stopServing = async () => {
    await api.stopServing(run.id).catch(() => undefined);
    setServing(null);
  };
  const onnxFile = `${run.id}.onnx`;

  return (
    <div class="export-page">
      <header class="page-head"><h2>Export</h2><RunPicker picker={picker} /></header>
      <div class="exports">
        {FORMATS.map(([format, label, about]) => {
          const e = exports[format];
          return (
            <div class="card export" key={format} data-testid={`export-${format}`}>
              <button type="button" class="primary" disabled={e === 'busy'} onClick={() => void make(format)} data-testid={`export-${format}-button`}>{label}</button>
              <small class="muted">{about}</small>
              {e === 'busy' ? <span class="muted">exporting…</span> : null}
              {e && e !== 'busy' && 'error' in e ? <span class="error">{e.error}</span> : null}
              {e && e !== 'busy' && 'url' in e ? (
                <a href={e.url} download={e.file} data-testid={`download-${format}`}>{e.file} ({bytes(e.bytes)})</a>
              ) : null}
            </div>
          );
        })}
      </div>
      <section>
        <h3>Serve it</h3>
        <div class="serve">
          {serving && serving !== 'busy' && 'url' in serving ? (
            <>
              <span>graft serve's server: <a href={serving.url} target="_blank" rel="noreferrer" data-testid="serve-url">{serving.url}</a></span>
              <button type="button" onClick={() => void stopServing()} data-testid="serve-stop">Stop serving</button>
              <Snippet title="Ask it" testid="snippet-serve" code={`curl --data-binary @photo.jpg ${serving.url}/predictions/${run.id}`} />
            </>
          ) : (
            <button type="button" disabled={serving === 'busy'} onClick={() => void serve()} data-testid="serve-button">Serve</button>
          )}
          {serving && serving !== 'busy' && 'error' in serving ? <span class="error">{serving.error}</span> : null}
        </div>
      </section>
      <section>
        <h3>Use the ONNX model</h3>
        <Snippet title="Node (onnxruntime-node)" testid="snippet-node" code={nodeSnippet(onnxFile, classes)} />
        <Snippet title="A web page (onnxruntime-web)" testid="snippet-web" code={webSnippet(onnxFile, classes)} />
      </section>
    </div>
  );
}
