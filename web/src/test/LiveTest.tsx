import { useEffect, useState } from 'preact/hooks';
import type { TestPrediction } from '../../../src/ui/api.ts';
import { api } from '../api.ts';
import { grabJpeg, useCamera } from '../camera.ts';
import { TopK } from './TopK.tsx';

/** Pause between frames: the next frame is sent once the last one is answered, and not sooner than this. */
const PAUSE_MS = 200;

/** The webcam classified live, one frame at a time. */
export function LiveTest({ run }: { run: string }) {
  const { video, ready, error } = useCamera();
  const [prediction, setPrediction] = useState<TestPrediction | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [frames, setFrames] = useState(0);
  useEffect(() => {
    if (!ready) return;
    let live = true;
    const loop = async () => {
      while (live) {
        try {
          const p = await api.predict(run, await grabJpeg(video.current!, 0.85));
          if (!live) return;
          setPrediction(p);
          setFrames((n) => n + 1);
        } catch (e) {
          setFailure((e as Error).message);
          return;
        }
        await new Promise((r) => setTimeout(r, PAUSE_MS));
      }
    };
    void loop();
    return () => { live = false; };
  }, [ready, run]);
  return (
    <div class="live-test" data-testid="live-test" data-frames={frames}>
      <video ref={video} muted playsInline />
      {error || failure ? <p class="error">{error ?? failure}</p> : null}
      {prediction ? <TopK prediction={prediction} /> : <p class="muted">Starting the camera…</p>}
    </div>
  );
}
