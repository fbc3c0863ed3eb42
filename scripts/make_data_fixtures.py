#!/usr/bin/env python3
"""Creates the data layer's test fixtures and torchvision goldens.

Usage: python3 scripts/make_data_fixtures.py [--shared ../shared]

Writes test/fixtures/data/:
  images/*          small images in several formats and modes (made with PIL)
  bad/*             files that must be skipped with a warning (zero-byte, truncated, corrupt, ...)
  goldens/*.u8.gz   torchvision's eval transform output before Normalize, 3x224x224 uint8 CHW.
                    ToTensor on a PIL image is exactly uint8 / 255, so the uint8 tensor is lossless;
                    the test applies Normalize itself. Stored as the residual of the planar
                    predictor left + up - upleft (mod 256), zlib-compressed, as PNG's filters do.
  op-goldens.json   torchvision's functional ops (colour, geometry) on one small PIL image.
  goldens.json      per image: shape, per-channel means of the normalized tensor, and for the
                    reference photos without a full golden (to keep the repo small) the means of
                    8x8 blocks of the uint8 tensor.

The golden transform is torchvision's: Resize(256) (bilinear, PIL antialias), CenterCrop(224),
ToTensor, Normalize(ImageNet). The image is loaded as graft loads it: EXIF orientation applied
(ImageOps.exif_transpose; torchvision's default loader skips this step), then convert("RGB").
"""
import argparse
import io
import json
import math
import os
import struct
import zlib

import numpy as np
from PIL import Image, ImageDraw, ImageOps

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "data")
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


def scene(w, h, seed):
    """A smooth synthetic photo stand-in: gradients, shapes, mild texture; compresses well."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    r = 128 + 100 * np.sin(x / (w / 3.1) + seed)
    g = 128 + 100 * np.cos(y / (h / 2.3) - seed)
    b = 128 + 90 * np.sin((x + y) / (w / 4.7))
    img = np.stack([r, g, b], -1)
    img += rng.normal(0, 1.5, img.shape)
    im = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")
    d = ImageDraw.Draw(im)
    for i in range(6):
        x0, y0 = int(rng.integers(0, max(1, w - 20))), int(rng.integers(0, max(1, h - 20)))
        x1, y1 = x0 + int(rng.integers(5, max(6, w // 3))), y0 + int(rng.integers(5, max(6, h // 3)))
        color = tuple(int(c) for c in rng.integers(0, 256, 3))
        (d.ellipse if i % 2 else d.rectangle)([x0, y0, x1, y1], fill=color)
    return im


def png16_rgb(arr16):
    """PIL cannot write 16-bit RGB PNGs, so write one by hand."""
    h, w, _ = arr16.shape
    raw = b"".join(b"\x00" + arr16[i].astype(">u2").tobytes() for i in range(h))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def with_exif_orientation(im, orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=85, exif=exif.tobytes())
    return buf.getvalue()


def save(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def encode(im, fmt, **kw):
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def make_images():
    out = os.path.join(ROOT, "images")
    big = scene(300, 200, 1)
    small = scene(120, 90, 2)
    tall = scene(150, 260, 3)
    files = {
        "rgb.jpg": encode(big, "JPEG", quality=80),
        "tall.jpg": encode(tall, "JPEG", quality=80),
        # Stored landscape, shown portrait: orientation 6 rotates 90 degrees clockwise.
        "exif-rotate90.jpg": with_exif_orientation(scene(280, 180, 4), 6),
        "exif-mirror.jpg": with_exif_orientation(scene(200, 150, 5), 2),
        "gray.jpg": encode(big.convert("L"), "JPEG", quality=80),
        "cmyk.jpg": encode(scene(220, 160, 6).convert("CMYK"), "JPEG", quality=80),
        "palette.png": encode(small.convert("P", palette=Image.ADAPTIVE, colors=64), "PNG"),
        "alpha.png": encode(rgba(small), "PNG"),
        "gray-alpha.png": encode(rgba(small).convert("LA"), "PNG"),
        "rgb16.png": png16_rgb((np.asarray(small, dtype=np.uint16) * 257 + np.arange(90)[:, None, None]).astype(np.uint16)),
        "gray16.png": encode(Image.fromarray((np.asarray(small.convert("L"), dtype=np.uint16) * 257), "I;16"), "PNG"),
        "frames.gif": gif_two_frames(small),
        "lossy.webp": encode(scene(200, 140, 7), "WEBP", quality=70),
        "deflate.tiff": encode(small, "TIFF", compression="tiff_adobe_deflate"),
        "rgb24.bmp": encode(scene(64, 40, 8), "BMP"),
        "rgba32.bmp": encode(rgba(scene(60, 44, 9)), "BMP"),
        "palette8.bmp": encode(scene(66, 42, 10).convert("P", palette=Image.ADAPTIVE, colors=32), "BMP"),
    }
    for name, data in files.items():
        save(os.path.join(out, name), data)
    return [os.path.join(out, n) for n in files if n != "gray16.png"]


def rgba(im):
    a = Image.linear_gradient("L").resize(im.size)
    out = im.copy()
    out.putalpha(a)
    return out


def gif_two_frames(im):
    second = ImageOps.invert(im)
    buf = io.BytesIO()
    im.save(buf, "GIF", save_all=True, append_images=[second], duration=100, loop=0)
    return buf.getvalue()


def make_bad():
    out = os.path.join(ROOT, "bad")
    good_jpg = encode(scene(64, 48, 11), "JPEG", quality=80)
    files = {
        "zero-byte.jpg": b"",
        "truncated.jpg": good_jpg[: len(good_jpg) // 2],
        "corrupt.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 2,
        "not-an-image.jpg": b"name,label\nthis is a text file with an image extension\n",
        "huge-dimensions.png": huge_png(60000, 60000),
        "truncated.bmp": encode(scene(64, 40, 12), "BMP")[:900],
        # A valid PNG behind a .jpg name decodes fine: content decides, not the extension.
        "png-named.jpg": encode(scene(48, 36, 13), "PNG"),
    }
    for name, data in files.items():
        save(os.path.join(out, name), data)


def huge_png(w, h):
    """A tiny file declaring a huge image: a decompression bomb as far as the header goes."""
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    row = b"\x00" + b"\x00" * w
    z = zlib.compressobj(9)
    data = b"".join(z.compress(row) for _ in range(64)) + z.flush()
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def golden(path):
    import torch
    from torchvision import transforms as T

    with Image.open(path) as im:
        im = ImageOps.exif_transpose(im).convert("RGB")
    pre = T.Compose([T.Resize(256), T.CenterCrop(224), T.PILToTensor()])(im)
    u8 = pre.numpy().astype(np.uint8)
    x = T.Normalize(MEAN, STD)(pre.float() / 255)
    return u8, [float(v) for v in x.mean(dim=(1, 2))]


def predictor_residual(u8):
    a = u8.astype(np.int16)
    r = a.copy()
    r[:, 1:, 1:] = a[:, 1:, 1:] - (a[:, 1:, :-1] + a[:, :-1, 1:] - a[:, :-1, :-1])
    r[:, 0, 1:] = a[:, 0, 1:] - a[:, 0, :-1]
    r[:, 1:, 0] = a[:, 1:, 0] - a[:, :-1, 0]
    return (r & 0xFF).astype(np.uint8)


def make_goldens(paths, subdir, record, full):
    out = os.path.join(ROOT, "goldens", subdir)
    os.makedirs(out, exist_ok=True)
    for p in paths:
        name = os.path.basename(p)
        u8, means = golden(p)
        entry = {"shape": list(u8.shape), "channelMeans": means}
        if full(name):
            entry["full"] = f"goldens/{subdir}/{name}.u8.gz"
            save(os.path.join(ROOT, entry["full"]), zlib.compress(predictor_residual(u8).tobytes(), 9))
        else:
            blocks = u8.reshape(3, 28, 8, 28, 8).mean(axis=(2, 4))
            entry["blockMeans8"] = [round(float(v), 2) for v in blocks.ravel()]
        record[f"{subdir}/{name}"] = entry


def make_op_goldens():
    """Functional transforms on one small image, as torchvision applies them to PIL images."""
    import base64
    from torchvision.transforms import functional as F, InterpolationMode as I

    im = scene(24, 18, 21)
    ops = {
        "adjust_brightness(1.3)": lambda x: F.adjust_brightness(x, 1.3),
        "adjust_contrast(0.6)": lambda x: F.adjust_contrast(x, 0.6),
        "adjust_saturation(1.7)": lambda x: F.adjust_saturation(x, 1.7),
        "adjust_hue(0.2)": lambda x: F.adjust_hue(x, 0.2),
        "adjust_hue(-0.35)": lambda x: F.adjust_hue(x, -0.35),
        "adjust_sharpness(1.8)": lambda x: F.adjust_sharpness(x, 1.8),
        "posterize(3)": lambda x: F.posterize(x, 3),
        "solarize(100)": lambda x: F.solarize(x, 100),
        "autocontrast": F.autocontrast,
        "equalize": F.equalize,
        "hflip": F.hflip,
        "rotate(30)": lambda x: F.rotate(x, 30),
        "rotate(-75)": lambda x: F.rotate(x, -75),
        "shear_x(0.3)": lambda x: F.affine(x, angle=0.0, translate=[0, 0], scale=1.0, shear=[math.degrees(math.atan(0.3)), 0.0], interpolation=I.NEAREST, center=[0, 0]),
        "translate_y(-5)": lambda x: F.affine(x, angle=0.0, translate=[0, -5], scale=1.0, shear=[0.0, 0.0], interpolation=I.NEAREST),
        "resized_crop(3,5,11,15,[10,12])": lambda x: F.resized_crop(x, 3, 5, 11, 15, [10, 12]),
        "resize([13,29],bicubic)": lambda x: F.resize(x, [13, 29], I.BICUBIC),
        "center_crop(20)": lambda x: F.center_crop(x, 20),
    }
    out = {"input": {"width": 24, "height": 18, "rgb": base64.b64encode(im.tobytes()).decode()}, "ops": {}}
    for name, fn in ops.items():
        y = fn(im)
        out["ops"][name] = {"width": y.width, "height": y.height, "rgb": base64.b64encode(y.convert("RGB").tobytes()).decode()}
    with open(os.path.join(ROOT, "op-goldens.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared"))
    args = ap.parse_args()
    import shutil
    shutil.rmtree(os.path.join(ROOT, "goldens"), ignore_errors=True)
    paths = make_images()
    make_bad()
    make_op_goldens()
    record = {}
    make_goldens(paths, "fixtures", record, lambda name: True)
    shared = os.path.join(args.shared, "images")
    if os.path.isdir(shared):
        make_goldens(sorted(os.path.join(shared, f) for f in os.listdir(shared) if not f.endswith(".json")), "shared", record,
                     lambda name: name in ("grace_hopper.bmp", "parrot.jpg", "hot_dog.jpg"))
    import torchvision
    doc = {"generator": "scripts/make_data_fixtures.py", "torchvision": torchvision.__version__,
           "transform": "Resize(256) CenterCrop(224) ToTensor Normalize(ImageNet)", "images": record}
    with open(os.path.join(ROOT, "goldens.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
