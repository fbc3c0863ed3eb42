import { useState } from 'preact/hooks';

/** A block of code with a button that copies it. */
export function Snippet({ title, code, testid }: { title: string; code: string; testid: string }) {
  const [copied, setCopied] = useState<string | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(code);
      setCopied('copied');
    } catch {
      setCopied('select the code and copy it (the clipboard is not available here)');
    }
  };
  return (
    <div class="snippet" data-testid={testid}>
      <div class="snippet-head"><strong>{title}</strong> <button type="button" onClick={() => void copy()}>Copy</button> <span class="muted">{copied}</span></div>
      <pre><code>{code}</code></pre>
    </div>
  );
}
