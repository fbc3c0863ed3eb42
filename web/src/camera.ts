import type { RefObject } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

/** The camera into a <video>, started on mount and stopped on unmount. */
export function useCamera(): { video: RefObject<HTMLVideoElement | null>; ready: boolean; error: string | null } {
  const video = useRef<HTMLVideoElement>(null);
  const [ready, setReady] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let stream: MediaStream | null = null;
    let stopped = false;
    navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false }).then(async (s) => {
      if (stopped) { s.getTracks().forEach((t) => t.stop()); return; }
      stream = s;
      const el = video.current!;
      el.srcObject = s;
      await el.play();
      setReady(true);
    }).catch((e: Error) => setError(`The camera cannot be opened: ${e.message}`));
    return () => {
      stopped = true;
      stream?.getTracks().forEach((t) => t.stop());
    };
  }, []);
  return { video, ready, error };
}

/** The video's current frame as a JPEG. */
export function grabJpeg(video: HTMLVideoElement, quality = 0.9): Promise<Blob> {
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext('2d')!.drawImage(video, 0, 0);
  return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('the frame could not be encoded'))), 'image/jpeg', quality));
}
