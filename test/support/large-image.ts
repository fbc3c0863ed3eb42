import sharp from 'sharp';

/**
 * A PNG of `width` x `height` pixels in a few hundred kilobytes: a gradient band over a flat
 * colour, which deflate shrinks a thousandfold while the decoder still has to hold every pixel.
 */
export async function writeLargePng(file: string, width: number, height: number): Promise<void> {
  const band = Buffer.alloc(width * 16 * 3);
  for (let i = 0; i < band.length; i++) band[i] = (i * 7) & 0xff;
  await sharp({ create: { width, height, channels: 3, background: { r: 180, g: 120, b: 60 } } })
    .composite([{ input: band, raw: { width, height: 16, channels: 3 }, top: Math.floor(height / 2), left: 0 }])
    .png({ compressionLevel: 9 })
    .toFile(file);
}
