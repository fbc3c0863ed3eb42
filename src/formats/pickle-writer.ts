/**
 * The few pickle opcodes torch.save uses for a state dict (protocol 2), appended to a growing
 * buffer. The reading side, which refuses anything else, is pickle.ts.
 */
export class PickleWriter {
  private buf = new Uint8Array(1024);
  private length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    bigger.set(this.buf.subarray(0, this.length));
    this.buf = bigger;
  }
  op(...codes: number[]): void {
    this.reserve(codes.length);
    for (const c of codes) this.buf[this.length++] = c;
  }
  raw(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }
  u32(n: number): void {
    this.op(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
  }
  string(s: string): void {
    const bytes = new TextEncoder().encode(s);
    this.op(0x58); // BINUNICODE
    this.u32(bytes.length);
    this.raw(bytes);
  }
  global(module: string, name: string): void {
    this.op(0x63); // GLOBAL
    this.raw(new TextEncoder().encode(`${module}\n${name}\n`));
  }
  int(n: number): void {
    if (n >= 0 && n < 0x100) return this.op(0x4b, n); // BININT1
    if (n >= 0 && n < 0x10000) return this.op(0x4d, n & 0xff, n >>> 8); // BININT2
    if (n >= -0x80000000 && n < 0x80000000) {
      this.op(0x4a); // BININT
      return this.u32(n >>> 0);
    }
    // LONG1: little-endian two's complement, as few bytes as hold the sign.
    const bytes: number[] = [];
    let v = BigInt(n);
    do {
      bytes.push(Number(v & 0xffn));
      v >>= 8n;
    } while (!(v === 0n && bytes[bytes.length - 1] < 0x80) && !(v === -1n && bytes[bytes.length - 1] >= 0x80));
    this.op(0x8a, bytes.length, ...bytes);
  }
  tuple(items: number[]): void {
    this.op(0x28);
    for (const n of items) this.int(n);
    this.op(0x74);
  }
  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}
