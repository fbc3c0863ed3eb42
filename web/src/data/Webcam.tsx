import { useEffect, useRef, useState } from 'preact/hooks';
import { grabJpeg, useCamera } from '../camera.ts';
import type { NamedFile } from './files.ts';

/** One frame this often while the button is held. */
const FRAME_MS = 150;
/** Frames are sent in small groups while recording, the rest when the button is let go. */
const SEND_EVERY = 5;

/** Webcam capture into a class: hold the button to record frames, uploaded as JPEG. */
export function Webcam({ cls, onFrames }: { cls: string; onFrames: (files: NamedFile[]) => void }) {
  const { video, ready, error } = useCamera();
  const [recording, setRecording] = useState(false);
  const [taken, setTaken] = useState(0);
  const pending = useRef<NamedFile[]>([]);
  const timer = useRef<number | null>(null);
  const session = useRef(Date.now().toString(36));
  const counter = useRef(0);

  const flush = () => {
    if (pending.current.length) onFrames(pending.current.splice(0));
  };
  const grab = async () => {
    const blob = await grabJpeg(video.current!);
    pending.current.push({ blob, name: `webcam-${session.current}-${String(counter.current++).padStart(4, '0')}.jpg` });
    setTaken((n) => n + 1);
    if (pending.current.length >= SEND_EVERY) flush();
  };
  const start = () => {
    if (!ready || timer.current !== null) return;
    setRecording(true);
    void grab();
    timer.current = window.setInterval(() => void grab(), FRAME_MS);
  };
  const stop = () => {
    if (timer.current === null) return;
    clearInterval(timer.current);
    timer.current = null;
    setRecording(false);
    // The last frame may still be encoding.
    setTimeout(flush, 50);
  };
  useEffect(() => () => { if (timer.current !== null) clearInterval(timer.current); }, []);

  return (
    <div class="webcam">
      <video ref={video} muted playsInline data-testid="webcam-video" />
      {error ? <p class="error">{error}</p> : null}
      <button
        type="button" class={recording ? 'record on' : 'record'} disabled={!ready} data-testid="webcam-record"
        onPointerDown={start} onPointerUp={stop} onPointerLeave={stop}
        onKeyDown={(e) => { if (e.key === ' ' && !e.repeat) start(); }} onKeyUp={(e) => { if (e.key === ' ') stop(); }}
      >
        {recording ? 'Recording…' : `Hold to record into ${cls}`}
      </button>
      <span class="muted" data-testid="webcam-taken">{taken} frames taken</span>
    </div>
  );
}
