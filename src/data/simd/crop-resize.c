/*
 * Resized crop + horizontal flip + ToTensor + Normalize in one pass, compiled to WebAssembly with
 * 128-bit SIMD (build.sh turns this file into crop-resize-wasm.ts). The filter is PIL's bilinear
 * with its support widened by the downscale factor (its antialiasing), computed in fixed point
 * horizontally and float vertically, so values agree with PIL's to within one level of 255; the
 * loader uses it for random training crops, never for the exact evaluation transforms.
 *
 * Memory layout: the crop's RGB bytes at heap_base(), then workspace_bytes() of coefficients,
 * intermediate rows and the CHW float output whose address crop_resize_normalize() returns.
 */
#include <stdint.h>
#include <wasm_simd128.h>

extern unsigned char __heap_base;

#define WBITS 14

static int ksize_for(int in, int out) {
  double scale = (double)in / out;
  double support = scale > 1 ? scale : 1;
  return (int)__builtin_ceil(support) * 2 + 1;
}

/* PIL's bilinear filter with the support widened by the downscale factor (its antialiasing). */
static int coefficients(int in, int out, int32_t *bounds, float *weights, int ksize) {
  double scale = (double)in / out;
  double fs = scale > 1 ? scale : 1;
  double support = fs;
  for (int xx = 0; xx < out; xx++) {
    double center = (xx + 0.5) * scale;
    int xmin = (int)__builtin_trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = (int)__builtin_trunc(center + support + 0.5);
    if (xmax > in) xmax = in;
    int n = xmax - xmin;
    double total = 0;
    float *w = weights + xx * ksize;
    for (int x = 0; x < n; x++) {
      double d = (x + xmin - center + 0.5) / fs;
      if (d < 0) d = -d;
      double k = d < 1 ? 1 - d : 0;
      w[x] = (float)k;
      total += k;
    }
    for (int x = 0; x < ksize; x++) w[x] = x < n ? (float)(total != 0 ? w[x] / total : w[x]) : 0.0f;
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = n;
  }
  return 0;
}

/* One row of the horizontal pass with n tap pairs per output pixel (see crop_resize_normalize). */
#define HPASS(n)                                                                                   \
  for (int xx = 0; xx < ow; xx++) {                                                                 \
    const v128_t *w = wq + xx * pairs;                                                              \
    const uint8_t *s = row + bx[xx * 2] * 3;                                                        \
    v128_t acc = zero;                                                                              \
    for (int q = 0; q < (n); q++, s += 6) {                                                         \
      v128_t px = wasm_v128_load64_zero(s);                                                         \
      px = wasm_i8x16_shuffle(px, zero, 0, 16, 3, 16, 1, 16, 4, 16, 2, 16, 5, 16, 16, 16, 16, 16);  \
      acc = wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(px, w[q]));                                    \
    }                                                                                               \
    v128_t f = wasm_f32x4_convert_i32x4(acc);                                                       \
    int o = flip ? ow - 1 - xx : xx;                                                                \
    t0[o] = wasm_f32x4_extract_lane(f, 0);                                                          \
    t1[o] = wasm_f32x4_extract_lane(f, 1);                                                          \
    t2[o] = wasm_f32x4_extract_lane(f, 2);                                                          \
  }

static uintptr_t align16(uintptr_t p) { return (p + 15) & ~(uintptr_t)15; }

/* Bytes of memory crop_resize_normalize needs past heap_base() (source pixels included). */
uint32_t workspace_bytes(int sw, int sh, int ow, int oh) {
  int kx = ksize_for(sw, ow), ky = ksize_for(sh, oh);
  int pairs = (kx + 1) / 2;
  uint32_t n = 256;
  n += (uint32_t)sw * sh * 3 + pairs * 6 + 32;
  n += ow * 2 * 4 + ow * kx * 4 + ow * pairs * 16 + 48;
  n += oh * 2 * 4 + oh * ky * 4 + 32;
  n += (uint32_t)sh * ow * 3 * 4 + 16;
  n += (uint32_t)ow * oh * 3 * 4 + 16;
  return n;
}

uint32_t heap_base(void) { return (uint32_t)(uintptr_t)&__heap_base; }

/*
 * Resizes the sw x sh RGB bytes at heap_base() to ow x oh, mirrors them left to right when flip
 * is set, and writes (v / 255 - mean[c]) / std[c] as planar CHW floats. Returns their address.
 */
uint32_t crop_resize_normalize(int sw, int sh, int ow, int oh, int flip,
                               float m0, float m1, float m2, float s0, float s1, float s2) {
  uint8_t *src = &__heap_base;
  int kx = ksize_for(sw, ow), ky = ksize_for(sh, oh);
  int pairs = (kx + 1) / 2;
  uintptr_t p = align16((uintptr_t)src + (uint32_t)sw * sh * 3 + pairs * 6 + 32);
  int32_t *bx = (int32_t *)p; p = align16(p + ow * 2 * 4);
  float *wx = (float *)p; p = align16(p + ow * kx * 4);
  v128_t *wq = (v128_t *)p; p = align16(p + ow * pairs * 16);
  int32_t *by = (int32_t *)p; p = align16(p + oh * 2 * 4);
  float *wy = (float *)p; p = align16(p + oh * ky * 4);
  coefficients(sw, ow, bx, wx, kx);
  coefficients(sh, oh, by, wy, ky);
  /* Tap pairs the widest output pixel needs: often fewer than the kernel size allows. */
  int np = 1;
  for (int xx = 0; xx < ow; xx++) if ((bx[xx * 2 + 1] + 1) >> 1 > np) np = (bx[xx * 2 + 1] + 1) >> 1;
  /* Horizontal weights as 16-bit fixed point, two taps per vector: [w0 w1 w0 w1 w0 w1 0 0]. */
  for (int xx = 0; xx < ow; xx++) {
    const float *w = wx + xx * kx;
    for (int q = 0; q < pairs; q++) {
      int16_t a = (int16_t)__builtin_nearbyint(w[2 * q] * (1 << WBITS));
      int16_t b = 2 * q + 1 < kx ? (int16_t)__builtin_nearbyint(w[2 * q + 1] * (1 << WBITS)) : 0;
      wq[xx * pairs + q] = wasm_i16x8_make(a, b, a, b, a, b, 0, 0);
    }
  }
  int first = by[0];
  int last = by[oh * 2 - 2] + by[oh * 2 - 1];
  int rows = last - first;
  int plane = ow * rows;
  float *tmp = (float *)p; p = align16(p + (uint32_t)plane * 3 * 4);
  float *out = (float *)p;
  const v128_t zero = wasm_i32x4_splat(0);
  /*
   * Horizontal pass on the rows the vertical pass reads: two taps of R, G, B per i16 dot product.
   * Every output pixel runs the same number of tap pairs (zero weights pad the shorter ones), so
   * the common counts get straight-line loops.
   */
  for (int y = 0; y < rows; y++) {
    const uint8_t *row = src + (uint32_t)(first + y) * sw * 3;
    float *t0 = tmp + y * ow, *t1 = t0 + plane, *t2 = t1 + plane;
    switch (np) {
      case 1: HPASS(1); break;
      case 2: HPASS(2); break;
      case 3: HPASS(3); break;
      default: HPASS(np); break;
    }
  }
  /* Vertical pass per channel with the normalization folded into the weights. */
  float mean[3] = {m0, m1, m2}, std[3] = {s0, s1, s2};
  int op = ow * oh;
  for (int c = 0; c < 3; c++) {
    float sc = 1.0f / (255.0f * std[c] * (1 << WBITS));
    float b = -mean[c] / std[c];
    v128_t bias = wasm_f32x4_splat(b);
    const float *tc = tmp + c * plane;
    float *oc = out + c * op;
    for (int yy = 0; yy < oh; yy++) {
      int ymin = by[yy * 2] - first, n = by[yy * 2 + 1];
      const float *w = wy + yy * ky;
      float *o = oc + yy * ow;
      int x = 0;
      for (; x + 4 <= ow; x += 4) {
        v128_t acc = bias;
        const float *r = tc + ymin * ow + x;
        for (int t = 0; t < n; t++, r += ow) acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load(r), wasm_f32x4_splat(w[t] * sc)));
        wasm_v128_store(o + x, acc);
      }
      for (; x < ow; x++) {
        float acc = b;
        const float *r = tc + ymin * ow + x;
        for (int t = 0; t < n; t++, r += ow) acc += *r * (w[t] * sc);
        o[x] = acc;
      }
    }
  }
  return (uint32_t)(uintptr_t)out;
}
