import { execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, ftruncateSync, mkdirSync, openSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_IMAGE_FILE_BYTES } from '../../src/data/regular-file.ts';

/** mkfifo and the devices exist where tests can make them: not on Windows. */
export const specialFilesSkip = process.platform === 'win32' ? 'no FIFOs or /dev/zero on Windows' : false;

export interface SpecialFiles {
  /** A named pipe with no writer: opening it for reading the ordinary way blocks forever. */
  fifo: string;
  /** Symbolic links to devices that never end. */
  zero: string;
  urandom: string;
  /** A sparse regular file one byte over the size limit: it takes no disk space. */
  huge: string;
  /** A real image under a .gif name, which torchvision's ImageFolder leaves out by extension. */
  gif: string;
}

/**
 * Hostile files named like images, in `dir` (created when missing): what a class folder may hold
 * by accident or by design. `image` is any real image file, copied for the GIF.
 */
export function makeSpecialFiles(dir: string, image: string): SpecialFiles {
  mkdirSync(dir, { recursive: true });
  const files: SpecialFiles = {
    fifo: join(dir, 'pipe.jpg'), zero: join(dir, 'zero.jpg'), urandom: join(dir, 'random.png'), huge: join(dir, 'huge.bmp'), gif: join(dir, 'anim.gif'),
  };
  execFileSync('mkfifo', [files.fifo]);
  symlinkSync('/dev/zero', files.zero);
  symlinkSync('/dev/urandom', files.urandom);
  const fd = openSync(files.huge, 'w');
  ftruncateSync(fd, MAX_IMAGE_FILE_BYTES + 1);
  closeSync(fd);
  copyFileSync(image, files.gif);
  return files;
}
