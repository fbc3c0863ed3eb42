import { useState } from 'preact/hooks';
import { api } from '../api.ts';

export function AddClass({ onAdded, onError }: { onAdded: (name: string) => void; onError: (message: string) => void }) {
  const [name, setName] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    const n = name.trim();
    if (!n) return;
    try {
      const info = await api.addClass(n);
      setName('');
      onAdded(info.name);
    } catch (x) {
      onError((x as Error).message);
    }
  };
  return (
    <form class="add-class" onSubmit={submit}>
      <input placeholder="New class name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} data-testid="new-class-name" />
      <button type="submit" data-testid="add-class">Add class</button>
    </form>
  );
}
