#!/usr/bin/env python3
"""Rewrites `kernel<<<grid, block>>>(args);` into an emulated launch so that
fd_cuda.cu compiles as plain C++ against cuda_emu/cuda_runtime.h.
Usage: launch.py IN.cu OUT.cpp"""
import sys

src = open(sys.argv[1]).read()
out, i = [], 0
while True:
    j = src.find("<<<", i)
    if j < 0:
        out.append(src[i:])
        break
    k = j
    while k > 0 and (src[k - 1].isalnum() or src[k - 1] == "_"):
        k -= 1
    name = src[k:j]
    e = src.index(">>>", j)
    cfg = src[j + 3:e]
    grid, block = [c.strip() for c in cfg.split(",", 1)]
    a = e + 3
    assert src[a] == "("
    depth, b = 0, a
    while True:
        if src[b] == "(":
            depth += 1
        elif src[b] == ")":
            depth -= 1
            if depth == 0:
                break
        b += 1
    args = src[a + 1:b]
    out.append(src[i:k])
    out.append("emu::launch(dim3(%s), dim3(%s), [&] { %s(%s); })" % (grid, block, name, args))
    i = b + 1
sys.stdout = open(sys.argv[2], "w")
print("".join(out))
