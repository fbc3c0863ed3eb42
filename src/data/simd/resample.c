// PIL's ImagingResample passes (src/data/transforms/resample.ts), compiled to WebAssembly with
// SIMD: the same 32-bit integer arithmetic on the same fixed-point coefficients, so every pixel
// equals the JavaScript's and PIL's. The coefficients are computed by the caller (in float64, as
// PIL computes them) and copied in; this file only runs the two separable passes.
// Build: build.sh (clang --target=wasm32 -O3 -msimd128).

typedef unsigned char u8;
typedef int i32;

#define PRECISION_BITS (32 - 8 - 2)

extern unsigned char __heap_base;

unsigned int heap_base(void) { return (unsigned int)&__heap_base; }

static inline u8 clip8(i32 v) {
  i32 x = v >> PRECISION_BITS;
  return x < 0 ? 0 : x > 255 ? 255 : (u8)x;
}

// src: rows of srcWidth RGB pixels, of which rows [0, rows) are read starting at column `left`;
// out: rows x outWidth RGB. bounds: (first tap, tap count) per output column; weights: ksize each.
void horizontal(const u8 *src, i32 srcWidth, i32 left, i32 rows, u8 *out, i32 outWidth,
                const i32 *bounds, const i32 *weights, i32 ksize) {
  const i32 half = 1 << (PRECISION_BITS - 1);
  for (i32 y = 0; y < rows; y++) {
    const u8 *row = src + ((long)y * srcWidth + left) * 3;
    u8 *o = out + (long)y * outWidth * 3;
    for (i32 xx = 0; xx < outWidth; xx++) {
      const i32 xmin = bounds[xx * 2], n = bounds[xx * 2 + 1];
      const i32 *w = weights + xx * ksize;
      const u8 *p = row + xmin * 3;
      i32 s0 = half, s1 = half, s2 = half;
      for (i32 x = 0; x < n; x++, p += 3) {
        s0 += p[0] * w[x];
        s1 += p[1] * w[x];
        s2 += p[2] * w[x];
      }
      o[xx * 3] = clip8(s0);
      o[xx * 3 + 1] = clip8(s1);
      o[xx * 3 + 2] = clip8(s2);
    }
  }
}

// src: rows of rowLen bytes; out: outHeight rows. bounds: (first row, row count) per output row.
// acc: rowLen i32 of scratch.
void vertical(const u8 *src, i32 rowLen, u8 *out, i32 outHeight, const i32 *bounds,
              const i32 *weights, i32 ksize, i32 *acc) {
  const i32 half = 1 << (PRECISION_BITS - 1);
  for (i32 yy = 0; yy < outHeight; yy++) {
    const i32 ymin = bounds[yy * 2], n = bounds[yy * 2 + 1];
    for (i32 i = 0; i < rowLen; i++) acc[i] = half;
    for (i32 y = 0; y < n; y++) {
      const i32 w = weights[yy * ksize + y];
      const u8 *r = src + (long)(ymin + y) * rowLen;
      for (i32 i = 0; i < rowLen; i++) acc[i] += r[i] * w;
    }
    u8 *o = out + (long)yy * rowLen;
    for (i32 i = 0; i < rowLen; i++) o[i] = clip8(acc[i]);
  }
}
