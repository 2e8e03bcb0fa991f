#!/usr/bin/env python3
"""shotq against Devito (https://www.devitoproject.org) on the same jobs.

Run through bench/peers/devito.sh, which makes the virtual environment with
Devito, segyio and numpy; this file is never imported by shotq or make check.

Modes (--mode, default all):
  aniso      homogeneous VTI (eps 0.2, delta 0.1) and TTI (theta 30, phi 45)
             jobs: shotq `vti` / `tti` (first-order Duveneck & Bakker system,
             staggered grid, CPML) against Devito running the same
             pseudo-acoustic qP system written here in its second-order form
             (sH'' = vp^2 [(1 + 2 eps) H sH + q Dnn sV], sV'' = vp^2 [q H sH +
             Dnn sV], Dnn = (n.grad)^2, H = laplacian - Dnn, q = sqrt(1 + 2
             delta); exact for homogeneous media). Reports per receiver the
             peak-time difference (samples) and the correlation after one
             global scale fit, then the time-loop Gpts/s of both.
  acoustic2  issue 11's job: 200^3 cells + a 20-cell absorbing layer, 200
             steps; shotq acoustic2 with CPML against Devito's acoustic
             (m u'' - lap u + damp u' = 0 with its damping layer, as in its
             examples/seismic/acoustic) in its best mode (advanced opt,
             aggressive autotuning). Reports time-loop and whole-process times.
Every timing is repeated --reps times, alternating shotq and Devito
(A B A B ...); best and median are printed.

Usage: devito_peer.py --shotq BUILD/shotq [--mode all|aniso|acoustic2]
                      [--reps 3] [--threads 2] [--n 200] [--steps 200] [--work DIR]
Internal: devito_peer.py --devito-run SPEC.json  (one Devito job, in a child
process so that its whole-process time is measured like shotq's).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

PAD = 20  # absorbing cells per side, both codes


# ---------------------------------------------------------------- jobs
def aniso_spec(eq):
    """The homogeneous VTI/TTI job (model cells, geometry, physics)."""
    n = 81
    c = (n - 1) // 2  # source at the centre cell
    # receivers 20 cells away on grid points: +x, +y, +z, two diagonals
    offs = [(20, 0, 0), (0, 20, 0), (0, 0, 20), (14, 0, 14), (-12, 12, 12)]
    return {
        "eq": eq, "n": [n, n, n], "d": 10.0, "vp": 2000.0, "rho": 1000.0,
        "eps": 0.2, "delta": 0.1,
        "theta": 30.0 if eq == "tti" else 0.0, "phi": 45.0 if eq == "tti" else 0.0,
        "nt": 301, "dt": 1e-3, "fpeak": 12.0, "taper": 100.0,
        "src": [c, c, c], "recs": [[c + a, c + b, c + e] for a, b, e in offs],
    }


def acoustic2_spec(n, steps):
    """Issue 11's acoustic2 job: n^3 cells of 10 m, 2000 m/s, steps steps."""
    c = n // 2
    return {
        "eq": "acoustic2", "n": [n, n, n], "d": 10.0, "vp": 2000.0, "rho": 1000.0,
        "eps": 0.0, "delta": 0.0, "theta": 0.0, "phi": 0.0,
        "nt": steps + 1, "dt": 1e-3, "fpeak": 10.0,
        "src": [c, c, c], "recs": [[c + 10, c, c]],
    }


def ricker(spec):
    t = np.arange(spec["nt"]) * spec["dt"]
    a = np.pi * spec["fpeak"] * (t - 1.0 / spec["fpeak"])
    return (1.0 - 2.0 * a * a) * np.exp(-a * a)


# ---------------------------------------------------------------- shotq
def shotq_job(spec, work):
    """Writes spec as a shotq job file under work; returns its path."""
    d = spec["d"]
    nx, ny, nz = spec["n"]
    taper = ["aniso_taper = %g" % spec["taper"]] if spec.get("taper") else []
    lines = [
        "[model]", "nx = %d" % nx, "ny = %d" % ny, "nz = %d" % nz,
        "dx = %g" % d, "dy = %g" % d, "dz = %g" % d, "vp = %g" % spec["vp"],
    ]
    if spec["eq"] != "acoustic2":
        lines += ["rho = %g" % spec["rho"], "epsilon = %g" % spec["eps"],
                  "delta = %g" % spec["delta"]]
    if spec["eq"] == "tti":
        lines += ["theta = %g" % spec["theta"], "phi = %g" % spec["phi"]]
    rec = os.path.join(work, spec["eq"] + "-receivers.txt")
    with open(rec, "w") as f:
        for r in spec["recs"]:
            f.write("%g %g %g\n" % (r[0] * d, r[1] * d, r[2] * d))
    s = spec["src"]
    lines += [
        "[survey]", "source_x = %g" % (s[0] * d), "source_y = %g" % (s[1] * d),
        "source_z = %g" % (s[2] * d), "receivers = %s" % rec,
        "[modeling]", "equation = %s" % spec["eq"], "nt = %d" % spec["nt"],
        "dt = %g" % spec["dt"], "fpeak = %g" % spec["fpeak"], "boundary = cpml",
        "boundary_width = %d" % PAD] + taper + [
        "[output]", "dir = %s" % os.path.join(work, spec["eq"] + "-shots"),
        "format = segy",
    ]
    path = os.path.join(work, spec["eq"] + ".ini")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def run_shotq(shotq, job, threads):
    """Runs shot 0; returns (time-loop s, Gpts/s, whole-process s, traces)."""
    import segyio

    t0 = time.perf_counter()
    out = subprocess.run([shotq, "model", job, "--shot", "0", "--device",
                          "cpu:%d" % threads], check=True, capture_output=True,
                         text=True).stdout
    wall = time.perf_counter() - t0
    line = [x for x in out.splitlines() if x.startswith("shot 0:")][0]
    # "shot 0: W s wall, E s engine, G Gpts/s, N traces on DEV -> PATH"
    words = line.replace(",", "").split()
    engine, gpts, path = float(words[5]), float(words[8]), words[-1]
    with segyio.open(path, ignore_geometry=True) as f:
        tr = np.array([np.array(f.trace[i], dtype=np.float64)
                       for i in range(f.tracecount)])
    return engine, gpts, wall, tr


# ---------------------------------------------------------------- devito
def devito_child(spec_path):
    """Runs one Devito job (in this child process); writes traces and the
    time-loop seconds next to the spec."""
    from devito import (Eq, Function, Grid, Operator, SparseTimeFunction,
                        TimeFunction, configuration)

    spec = json.load(open(spec_path))
    configuration["log-level"] = "ERROR"
    d, dt, nt = spec["d"], spec["dt"], spec["nt"]
    shape = tuple(k + 2 * PAD for k in spec["n"])
    grid = Grid(shape=shape, extent=tuple((k - 1) * d for k in shape),
                origin=(-PAD * d,) * 3)
    so = 8
    src = SparseTimeFunction(name="src", grid=grid, npoint=1, nt=nt)
    src.coordinates.data[:] = np.array(spec["src"]) * d
    src.data[:, 0] = ricker(spec) / d ** 3
    rec = SparseTimeFunction(name="rec", grid=grid, npoint=len(spec["recs"]), nt=nt)
    rec.coordinates.data[:] = np.array(spec["recs"], dtype=np.float64) * d
    v2dt2 = (spec["vp"] * dt) ** 2
    if spec["eq"] == "acoustic2":
        # Devito's examples/seismic/acoustic: m u'' - lap u + damp u' = 0
        # with its damping layer (initialize_damp, 20 cells)
        u = TimeFunction(name="u", grid=grid, time_order=2, space_order=so)
        damp = Function(name="damp", grid=grid)
        damp.data[:] = damp_profile(shape, d, spec["vp"])
        m = 1.0 / spec["vp"] ** 2
        stencil = Eq(u.forward, (dt * dt * u.laplace + m * (2 * u - u.backward)
                                 + 0.5 * dt * damp * u.backward)
                     / (m + 0.5 * dt * damp))
        eqs = [stencil] + src.inject(field=u.forward, expr=src * v2dt2) + \
            rec.interpolate(expr=u)
    else:
        h = TimeFunction(name="h", grid=grid, time_order=2, space_order=so)
        w = TimeFunction(name="w", grid=grid, time_order=2, space_order=so)
        th, ph = np.radians(spec["theta"]), np.radians(spec["phi"])
        nv = (np.sin(th) * np.cos(ph), np.sin(th) * np.sin(ph), np.cos(th))
        dims = grid.dimensions

        def dnn(f):
            """(n . grad)^2 f: 2nd-derivative stencils on the diagonal, composed
            first derivatives off it (Devito's examples/seismic/tti style), so
            that for n = z it is exactly f.dz2 and H below exactly dx2 + dy2."""
            out = 0
            for i in range(3):
                if abs(nv[i]) > 1e-12:
                    out += nv[i] ** 2 * f.diff(dims[i], 2)
                for j in range(i + 1, 3):
                    if abs(nv[i] * nv[j]) > 1e-12:
                        out += 2 * nv[i] * nv[j] * f.diff(dims[i]).diff(dims[j])
            return out

        e1 = Function(name="e1", grid=grid)
        q = Function(name="q", grid=grid)
        w_ = taper_weights(spec, shape)
        e1.data[:] = 1.0 + 2.0 * spec["eps"] * w_
        q.data[:] = np.sqrt(1.0 + 2.0 * spec["delta"] * w_)
        nnh, nnw = dnn(h), dnn(w)
        hh = h.laplace - nnh  # H = laplacian - Dnn (<= 0, like Dnn)
        eqs = [Eq(h.forward, 2 * h - h.backward + v2dt2 * (e1 * hh + q * nnw)),
               Eq(w.forward, 2 * w - w.backward + v2dt2 * (q * hh + nnw))]
        eqs += src.inject(field=h.forward, expr=src * v2dt2)
        eqs += src.inject(field=w.forward, expr=src * v2dt2)
        eqs += rec.interpolate(expr=h)
    op = Operator(eqs, opt="advanced")
    kw = {"dt": dt, "time_M": nt - 1}  # nt - 1 steps, as shotq
    if spec.get("autotune"):
        kw["autotune"] = "aggressive"
    t0 = time.perf_counter()
    summary = op.apply(**kw)
    apply_s = time.perf_counter() - t0
    loop = sum(v.time for v in summary.values())
    pts = float(np.prod(shape)) * (nt - 1)  # time_m = 1 .. time_M
    base = spec_path[:-5]
    np.save(base + "-rec.npy", np.array(rec.data, dtype=np.float64).T)
    json.dump({"loop": loop, "apply": apply_s, "gpts": pts / loop / 1e9},
              open(base + "-time.json", "w"))


def taper_weights(spec, shape):
    """shotq's aniso_taper: w = sin^2(pi r / 2 R) within R of the source, 1
    beyond, on the padded grid."""
    R, d = spec["taper"], spec["d"]
    ax = [(np.arange(n) - PAD - spec["src"][a]) * d for a, n in enumerate(shape)]
    r = np.sqrt(ax[0][:, None, None] ** 2 + ax[1][None, :, None] ** 2
                + ax[2][None, None, :] ** 2)
    return np.where(r < R, np.sin(0.5 * np.pi * r / R) ** 2, 1.0)


def damp_profile(shape, d, vp):
    """Devito's initialize_damp: (3/2 vp / L) log(1/R) (xi - sin(2 pi xi)/(2 pi))
    summed over the axes in the PAD-cell layer, R = 1e-3."""
    out = np.zeros(shape)
    dampcoeff = 1.5 * np.log(1.0 / 0.001) / (PAD * d) * vp
    for a, n in enumerate(shape):
        i = np.arange(n, dtype=np.float64)
        xi = np.maximum(np.maximum(PAD - i, i - (n - 1 - PAD)), 0.0) / PAD
        val = dampcoeff * (xi - np.sin(2 * np.pi * xi) / (2 * np.pi))
        sh = [1, 1, 1]
        sh[a] = n
        out += val.reshape(sh)
    return out


def run_devito(spec, work, threads, autotune):
    """Runs the Devito job in a child process; returns (time-loop s, Gpts/s,
    whole-process s, traces)."""
    spec = dict(spec, autotune=autotune)
    path = os.path.join(work, "devito-%s.json" % spec["eq"])
    json.dump(spec, open(path, "w"))
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), DEVITO_LANGUAGE="openmp",
               DEVITO_ARCH=os.environ.get("DEVITO_ARCH", "gcc"))
    t0 = time.perf_counter()
    subprocess.run([sys.executable, os.path.abspath(__file__), "--devito-run", path],
                   check=True, env=env)
    wall = time.perf_counter() - t0
    tm = json.load(open(path[:-5] + "-time.json"))
    return tm["loop"], tm["gpts"], wall, np.load(path[:-5] + "-rec.npy")


# ---------------------------------------------------------------- reports
def stats(xs):
    return min(xs), statistics.median(xs)


def compare(eq, a, b):
    """Peak times and correlation after one global scale fit of b to a.
    Returns True when every receiver is within one sample and >= 0.99."""
    ok = True
    s = float(np.sum(a * b) / np.sum(b * b))
    for r in range(a.shape[0]):
        x, y = a[r], s * b[r]
        ka, kb = int(np.argmax(np.abs(x))), int(np.argmax(np.abs(y)))
        cor = float(np.dot(x, y) / np.sqrt(np.dot(x, x) * np.dot(y, y)))
        good = abs(ka - kb) <= 1 and cor >= 0.99
        ok &= good
        print("  %s receiver %d: peak sample shotq %d, devito %d (%+d); correlation "
              "%.6f %s" % (eq, r, ka, kb, kb - ka, cor, "ok" if good else "FAIL"))
    print("  %s global scale devito -> shotq: %.4g" % (eq, s))
    return ok


def timed_pairs(label, spec, args, work, autotune):
    """Alternates shotq and Devito --reps times; prints best/median."""
    job = shotq_job(spec, work)
    res = {"shotq": [], "devito": []}
    last = {}
    for _ in range(args.reps):
        r = run_shotq(args.shotq, job, args.threads)
        res["shotq"].append(r[:3])
        last["shotq"] = r[3]
        r = run_devito(spec, work, args.threads, autotune)
        res["devito"].append(r[:3])
        last["devito"] = r[3]
    pts = float(np.prod([k + 2 * PAD for k in spec["n"]]))
    print("%s: %d^3 + %d-cell layer = %.3g points, %d steps, %d threads, %d reps "
          "(A B A B)" % (label, spec["n"][0], PAD, pts, spec["nt"] - 1, args.threads,
                         args.reps))
    best = {}
    for who in ("shotq", "devito"):
        loop = [x[0] for x in res[who]]
        gp = [x[1] for x in res[who]]
        wall = [x[2] for x in res[who]]
        lb, lm = stats(loop)
        wb, wm = stats(wall)
        best[who] = (lb, wb)
        print("  %-6s time loop best %.2f s median %.2f s (Gpts/s best %.3f median "
              "%.3f); whole process best %.2f s median %.2f s"
              % (who, lb, lm, max(gp), statistics.median(gp), wb, wm))
    print("  devito/shotq: time loop %.2fx, whole process %.2fx (best)"
          % (best["devito"][0] / best["shotq"][0], best["devito"][1] / best["shotq"][1]))
    return last


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shotq")
    ap.add_argument("--mode", default="all", choices=["all", "aniso", "acoustic2"])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--work")
    ap.add_argument("--devito-run")
    args = ap.parse_args()
    if args.devito_run:
        devito_child(args.devito_run)
        return 0
    if not args.shotq:
        ap.error("--shotq is required")
    work = args.work or tempfile.mkdtemp(prefix="shotq-devito-")
    os.makedirs(work, exist_ok=True)
    import devito

    print("# shotq vs Devito %s, %s, %d CPUs, OMP_WAIT_POLICY=%s, %s" % (
        devito.__version__, time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime()),
        os.cpu_count(), os.environ.get("OMP_WAIT_POLICY", "(unset)"), work))
    ok = True
    if args.mode in ("all", "aniso"):
        for eq in ("vti", "tti"):
            last = timed_pairs(eq, aniso_spec(eq), args, work, autotune=False)
            ok &= compare(eq, last["shotq"], last["devito"])
    if args.mode in ("all", "acoustic2"):
        timed_pairs("acoustic2", acoustic2_spec(args.n, args.steps), args, work,
                    autotune=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
