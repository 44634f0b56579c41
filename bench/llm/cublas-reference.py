#!/usr/bin/env python3
"""The hardware reference of the LLM benchmark on an NVIDIA GPU: the same
matrix shapes as wgv-bench's llm-proj and llm-ffn cases (a batch of 1 or
512 activations times 4096x4096 and 4096x11008 weights) multiplied by
cuBLAS through PyTorch, in f32 (TF32 off, the arithmetic WebGPU does) and
in f16. Prints one JSON object per case; prints why and exits 1 where
PyTorch or CUDA is missing. Not part of any build: run it by hand on the
GPU machine (docs/llm.md).

    cublas-reference.py [--reps N]
"""
import json
import sys
import time


def main():
    reps = 50
    if len(sys.argv) == 3 and sys.argv[1] == "--reps":
        reps = int(sys.argv[2])
    try:
        import torch
    except ImportError:
        print("cublas-reference: no PyTorch here")
        return 1
    if not torch.cuda.is_available():
        print("cublas-reference: PyTorch sees no CUDA device")
        return 1
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dev = torch.cuda.get_device_name(0)
    for dtype, name in ((torch.float32, "f32"), (torch.float16, "f16")):
        for k, n in ((4096, 4096), (4096, 11008)):
            for m in (1, 512):
                a = torch.randn(m, k, device="cuda", dtype=dtype)
                b = torch.randn(k, n, device="cuda", dtype=dtype)
                for _ in range(5):
                    torch.matmul(a, b)
                torch.cuda.synchronize()
                t0 = time.perf_counter()
                for _ in range(reps):
                    torch.matmul(a, b)
                torch.cuda.synchronize()
                dt = (time.perf_counter() - t0) / reps
                print(json.dumps({"device": dev, "type": name, "m": m, "k": k, "n": n,
                                  "us": dt * 1e6, "gflops": 2.0 * m * k * n / dt / 1e9}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
