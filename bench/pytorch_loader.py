#!/usr/bin/env python3
"""torchvision's side of the loader benchmark: ImageFolder + RandomResizedCrop(224) +
RandomHorizontalFlip + ToTensor + Normalize through DataLoader(num_workers=N).

Usage: python3 bench/pytorch_loader.py ROOT [--batch-size 32] [--workers 2] [--epochs 3]
Prints one JSON line: {"images_per_s", "images", "seconds", "cpu_ms_per_image"}. The first epoch
warms up (worker start-up, page cache) and is not timed; later epochs reuse persistent workers.
"""
import argparse
import json
import os
import resource
import time

import torch
from torchvision import datasets, transforms as T


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=3)
    args = ap.parse_args()
    torch.manual_seed(0)
    tf = T.Compose([
        T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.ToTensor(),
        T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])
    ds = datasets.ImageFolder(args.root, tf)
    loader = torch.utils.data.DataLoader(ds, batch_size=args.batch_size, shuffle=True, num_workers=args.workers,
                                         persistent_workers=args.workers > 0)
    for _ in loader:
        pass
    workers = [w.pid for w in getattr(loader._iterator, "_workers", [])]
    n = 0
    cpu0 = cpu_seconds(workers)
    t0 = time.perf_counter()
    for _ in range(args.epochs - 1):
        for x, _y in loader:
            n += x.shape[0]
    dt = time.perf_counter() - t0
    cpu_ms = (cpu_seconds(workers) - cpu0) * 1000 / n
    print(json.dumps({"images_per_s": n / dt, "images": n, "seconds": dt, "cpu_ms_per_image": cpu_ms}))


def cpu_seconds(workers):
    """CPU time of this process and of its (persistent, still running) worker processes."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    total = r.ru_utime + r.ru_stime
    tick = os.sysconf("SC_CLK_TCK")
    for pid in workers:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


if __name__ == "__main__":
    main()
