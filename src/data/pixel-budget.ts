/**
 * Bounds the decoded pixels held at once by work that runs concurrently (decoding a batch of
 * images): each piece of work reserves its image's pixel count first and waits while the
 * reservations would pass the limit. Work that alone passes it runs by itself, so nothing waits
 * forever; waiting work starts in arrival order, so a large image is not starved by small ones.
 */
export class PixelBudget {
  private reserved = 0;
  private readonly waiting: { pixels: number; start: () => void }[] = [];

  constructor(readonly limit: number) {}

  async use<T>(pixels: number, work: () => Promise<T>): Promise<T> {
    await this.reserve(pixels);
    try {
      return await work();
    } finally {
      this.release(pixels);
    }
  }

  private fits(pixels: number): boolean {
    return this.reserved === 0 || this.reserved + pixels <= this.limit;
  }

  private reserve(pixels: number): Promise<void> {
    if (this.waiting.length === 0 && this.fits(pixels)) {
      this.reserved += pixels;
      return Promise.resolve();
    }
    return new Promise((start) => this.waiting.push({ pixels, start }));
  }

  private release(pixels: number): void {
    this.reserved -= pixels;
    while (this.waiting.length > 0 && this.fits(this.waiting[0].pixels)) {
      const next = this.waiting.shift()!;
      this.reserved += next.pixels;
      next.start();
    }
  }
}
