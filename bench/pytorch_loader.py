#!/usr/bin/env python3
"""torchvision's side of the loader benchmark: ImageFolder + RandomResizedCrop(224) +
RandomHorizontalFlip + ToTensor + Normalize through DataLoader(num_workers=N).

Usage: python3 bench/pytorch_loader.py ROOT [--batch-size 32] [--workers 2] [--epochs 3]
Prints one JSON line: {"images_per_s", "images", "seconds", "cpu_ms_per_image"}. The first epoch
warms up (worker start-up, page cache) and is not timed; later epochs reuse persistent workers.
"""
import argparse
import json
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
    n = 0
    cpu0 = cpu_seconds()
    t0 = time.perf_counter()
    for _ in range(args.epochs - 1):
        for x, _y in loader:
            n += x.shape[0]
    dt = time.perf_counter() - t0
    del loader  # persistent workers exit, so their CPU time is counted
    cpu_ms = (cpu_seconds() - cpu0) * 1000 / n
    print(json.dumps({"images_per_s": n / dt, "images": n, "seconds": dt, "cpu_ms_per_image": cpu_ms}))


def cpu_seconds():
    """CPU time of this process and of its exited workers."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        r = resource.getrusage(who)
        total += r.ru_utime + r.ru_stime
    return total


if __name__ == "__main__":
    main()
