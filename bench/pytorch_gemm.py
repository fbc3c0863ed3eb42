"""PyTorch's side of bench/gemm.ts: median ms of the product F.linear(x, W, b) computes (addmm with
W transposed) into a preallocated output, after one warm-up: the kernel alone, as the ONNX Runtime
side is timed.
usage: /usr/bin/python3 bench/pytorch_gemm.py ROWS IN OUT THREADS"""
import json
import sys
import time

import torch

rows, k, n, threads = (int(a) for a in sys.argv[1:5])
torch.set_num_threads(threads)
x, w, b = torch.randn(rows, k), torch.randn(n, k) * 0.02, torch.randn(n) * 0.02
y = torch.empty(rows, n)
with torch.no_grad():
    torch.addmm(b, x, w.t(), out=y)
    assert torch.allclose(y, torch.nn.functional.linear(x, w, b), atol=1e-4)
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        torch.addmm(b, x, w.t(), out=y)
        times.append((time.perf_counter() - t0) * 1000)
print(json.dumps({"ms": sorted(times)[2]}))
