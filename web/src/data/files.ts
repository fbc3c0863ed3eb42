/** A file to upload and the name it is sent under (a folder's files keep their relative path). */
export interface NamedFile { blob: Blob; name: string }

const IMAGE_NAME = /\.(jpe?g|png|webp|bmp|gif|tiff?)$/i;

function readAll(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  // readEntries answers in chunks (about 100 at a time in Chromium) until it answers none.
  return new Promise((resolve, reject) => {
    const all: FileSystemEntry[] = [];
    const next = () => reader.readEntries((entries) => {
      if (entries.length === 0) resolve(all);
      else { all.push(...entries); next(); }
    }, reject);
    next();
  });
}

async function walk(entry: FileSystemEntry, prefix: string, out: NamedFile[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    if (IMAGE_NAME.test(file.name) && !file.name.startsWith('.')) out.push({ blob: file, name: `${prefix}${file.name}` });
  } else if (entry.isDirectory && !entry.name.startsWith('.')) {
    for (const child of await readAll((entry as FileSystemDirectoryEntry).createReader())) await walk(child, `${prefix}${entry.name}/`, out);
  }
}

/**
 * The image files of a drop: plain files as they are, dropped folders walked to the bottom
 * (hidden files and folders, and files that are not images by name, are left out).
 */
export async function droppedFiles(transfer: DataTransfer): Promise<NamedFile[]> {
  const entries = [...transfer.items].map((item) => (item.kind === 'file' ? item.webkitGetAsEntry() : null));
  const plain = [...transfer.files];
  const out: NamedFile[] = [];
  if (entries.some((e) => e !== null)) {
    for (const entry of entries) if (entry) await walk(entry, '', out);
    return out;
  }
  return plain.filter((f) => IMAGE_NAME.test(f.name)).map((f) => ({ blob: f, name: f.name }));
}

/** Images pasted from the clipboard, named by the time they came. */
export function pastedFiles(transfer: DataTransfer | null): NamedFile[] {
  if (!transfer) return [];
  const stamp = new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15);
  return [...transfer.items].filter((i) => i.kind === 'file' && i.type.startsWith('image/')).map((item, n) => {
    const file = item.getAsFile()!;
    const ext = file.type.split('/')[1]?.replace('jpeg', 'jpg') ?? 'png';
    return { blob: file, name: IMAGE_NAME.test(file.name) && file.name !== 'image.png' ? file.name : `pasted-${stamp}-${n}.${ext}` };
  });
}

export function pickedFiles(list: FileList | null): NamedFile[] {
  return [...(list ?? [])].filter((f) => IMAGE_NAME.test(f.name)).map((f) => ({ blob: f, name: f.webkitRelativePath || f.name }));
}
