import sharp from 'sharp';
import { decodeImage } from '../data/decode.ts';

/**
 * Thumbnails for the report, embedded as data: URIs so the HTML file stands alone. Decoding goes
 * through the data pipeline's own decoder so the picture is the one the model saw (EXIF
 * orientation applied, BMP and CMYK handled the same way), shrunk inside libvips while decoding.
 */

export const THUMBNAIL_SIZE = 128;

/** A JPEG data: URI no larger than `size` on either side, or null when the file cannot be read. */
export async function imageThumbnail(file: string, size = THUMBNAIL_SIZE): Promise<string | null> {
  try {
    const image = await decodeImage(file, {
      cropResize: (width, height) => {
        const scale = Math.min(1, size / Math.max(width, height));
        return {
          region: { left: 0, top: 0, width, height },
          width: Math.max(1, Math.round(width * scale)),
          height: Math.max(1, Math.round(height * scale)),
        };
      },
    });
    const jpeg = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
      .jpeg({ quality: 82, mozjpeg: true })
      .toBuffer();
    return `data:image/jpeg;base64,${jpeg.toString('base64')}`;
  } catch {
    // A file that vanished or never was an image must not cost the whole report: it gets a placeholder.
    return null;
  }
}
