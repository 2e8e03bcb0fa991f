"""SEG-Y output of `shotq model --shot K`, read back with segyio.

A 2 x 2 shot survey (x fastest, then y) over a 3 x 2 receiver grid, with
positions carrying centimetres, is run shot by shot. For every shot file the
test checks the binary header (interval, samples, format 5, revision 1, fixed
length), every trace header (sequence numbers, FieldRecord = shot,
TraceNumber, scalars -100, coordinates in cm, elevation = -depth, source
depth, offset), the textual header, the sample count with decimation, that no
temporary files are left, that format = bin holds exactly the same samples
as the SEG-Y file, the JSON sidecar, the direct-wave mute and snapshots.
"""
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import segyio

SHOTQ = os.environ["SHOTQ"]

SOURCES_X = [50.25, 130.5]
SOURCES_Y = [40.0, 120.07]
SOURCE_Z = 30.5
REC_X = [0.0, 90.0, 180.0]
REC_Y = [20.0, 60.0]
REC_Z = 12.34
NT, DT, RECORD_DT = 41, 0.001, 0.002
VP = 2000.0
FPEAK = 10.0


def write_job(path, out, extra=""):
    with open(path, "w") as f:
        f.write(f"""# SEG-Y header test
[model]
nx = 21
ny = 17
nz = 9
dx = 10
dy = 10
dz = 5
vp = {VP}
[survey]
source_x = {SOURCES_X[0]}:{SOURCES_X[1]}:{SOURCES_X[1] - SOURCES_X[0]}
source_y = {SOURCES_Y[0]}:{SOURCES_Y[1]}:{SOURCES_Y[1] - SOURCES_Y[0]}
source_z = {SOURCE_Z}
receiver_x = 0:180:90
receiver_y = 20:60:40
receiver_z = {REC_Z}
[modeling]
nt = {NT}
dt = {DT}
record_dt = {RECORD_DT}
fpeak = {FPEAK}
boundary_width = 8
[output]
dir = {out}
{extra}""")


def run(job, shot, check=True):
    # One thread: ctest runs tests side by side.
    r = subprocess.run([SHOTQ, "model", job, "--shot", str(shot), "--device", "cpu:1"],
                       capture_output=True, text=True)
    if check and r.returncode != 0:
        sys.exit(f"shotq model --shot {shot} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    return r


failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL", what)


def main():
    tmp = tempfile.mkdtemp(prefix="test_fd_segy.")
    job = os.path.join(tmp, "job.ini")
    write_job(job, "out")
    nsamples = math.ceil(NT / round(RECORD_DT / DT))  # 21
    receivers = [(x, y, REC_Z) for y in REC_Y for x in REC_X]  # x fastest
    shots = [(x, y, SOURCE_Z) for y in SOURCES_Y for x in SOURCES_X]
    for k, (sx, sy, sz) in enumerate(shots):
        r = run(job, k)
        check(f"shot {k}:" in r.stdout and "Gpts/s" in r.stdout, f"shot {k} log line: {r.stdout!r}")
        path = os.path.join(tmp, "out", "shot_%05d.sgy" % k)
        with segyio.open(path, ignore_geometry=True) as f:
            check(f.tracecount == len(receivers), f"shot {k}: {f.tracecount} traces")
            check(len(f.samples) == nsamples, f"shot {k}: {len(f.samples)} samples, want {nsamples}")
            b = f.bin
            check(b[segyio.BinField.Interval] == 2000, f"binary interval {b[segyio.BinField.Interval]}")
            check(b[segyio.BinField.Samples] == nsamples, "binary samples")
            check(b[segyio.BinField.Format] == 5, "format 5")
            check(b[segyio.BinField.SEGYRevision] == 0x0100, "revision 1")
            check(b[segyio.BinField.TraceFlag] == 1, "fixed-length flag")
            check(segyio.tools.dt(f) == 2000.0, "dt from segyio")
            text = segyio.tools.wrap(f.text[0])
            check(f"C01 shotq FD modelling, shot {k} of 4" in text, "textual header line 1")
            check("C40 END TEXTUAL HEADER" in text, "textual header line 40")
            for i, (gx, gy, gz) in enumerate(receivers):
                h = f.header[i]
                T = segyio.TraceField
                want = {
                    T.TRACE_SEQUENCE_LINE: i + 1,
                    T.TRACE_SEQUENCE_FILE: i + 1,
                    T.FieldRecord: k,
                    T.TraceNumber: i + 1,
                    T.EnergySourcePoint: k,
                    T.TraceIdentificationCode: 1,
                    T.offset: round(math.hypot(gx - sx, gy - sy)),
                    T.ReceiverGroupElevation: -round(gz * 100),
                    T.SourceDepth: round(sz * 100),
                    T.ElevationScalar: -100,
                    T.SourceGroupScalar: -100,
                    T.SourceX: round(sx * 100),
                    T.SourceY: round(sy * 100),
                    T.GroupX: round(gx * 100),
                    T.GroupY: round(gy * 100),
                    T.CoordinateUnits: 1,
                    T.TRACE_SAMPLE_COUNT: nsamples,
                    T.TRACE_SAMPLE_INTERVAL: 2000,
                }
                for field, value in want.items():
                    check(h[field] == value, f"shot {k} trace {i}: {field} = {h[field]}, want {value}")
            data = segyio.tools.collect(f.trace[:])
            check(np.all(np.isfinite(data)) and np.abs(data).max() > 0, f"shot {k}: samples finite, non-zero")
    left = [n for n in os.listdir(os.path.join(tmp, "out")) if ".tmp." in n]
    check(not left, f"temporary files left: {left}")
    check(sorted(os.listdir(os.path.join(tmp, "out"))) == ["shot_%05d.sgy" % k for k in range(4)],
          "exactly the four shot files")

    # The same shot as raw float32 + JSON: identical samples, trace-major.
    jobb = os.path.join(tmp, "jobb.ini")
    write_job(jobb, "outb", "format = bin\n")
    run(jobb, 3)
    raw = np.fromfile(os.path.join(tmp, "outb", "shot_00003.bin"), np.float32)
    with segyio.open(os.path.join(tmp, "out", "shot_00003.sgy"), ignore_geometry=True) as f:
        sg = segyio.tools.collect(f.trace[:])
    check(raw.size == len(receivers) * nsamples, f"bin size {raw.size}")
    check(np.array_equal(raw.reshape(len(receivers), nsamples), sg), "bin samples equal SEG-Y samples")
    meta = json.load(open(os.path.join(tmp, "outb", "shot_00003.json")))
    check(meta["nrec"] == 6 and meta["nsamples"] == nsamples and meta["dt"] == RECORD_DT,
          f"sidecar sizes {meta}")
    check(meta["source"] == [shots[3][0], shots[3][1], shots[3][2]], f"sidecar source {meta['source']}")
    check(meta["receivers"][4] == [REC_X[1], REC_Y[1], REC_Z], f"sidecar receiver 4 {meta['receivers'][4]}")

    # Pictures of a SEG-Y and a bin gather: PNG files of 6 traces x 8 px by 21 samples x 8 px.
    for j, out in ((job, "out"), (jobb, "outb")):
        png = os.path.join(tmp, out, "g.png")
        r = subprocess.run([SHOTQ, "model", j, "--png-shot", "3", png], capture_output=True, text=True)
        check(r.returncode == 0, f"--png-shot on {out}: {r.stderr}")
        with open(png, "rb") as f:
            head = f.read(24)
        check(head[:8] == b"\x89PNG\r\n\x1a\n", f"{out}: PNG signature")
        width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
        check((width, height) == (6 * 8, nsamples * 8), f"{out}: PNG size {width}x{height}")

    # Mute: every sample before r / v + 2 / fpeak is zero, later ones are not all zero.
    jobm = os.path.join(tmp, "jobm.ini")
    write_job(jobm, "outm", "snapshot_every = 20\n")
    with open(jobm) as f:
        text = f.read().replace("[output]", "mute_direct = yes\nnt = 401\n[output]").replace(f"nt = {NT}\n", "")
    with open(jobm, "w") as f:
        f.write(text)
    run(jobm, 0)
    with segyio.open(os.path.join(tmp, "outm", "shot_00000.sgy"), ignore_geometry=True) as f:
        m = segyio.tools.collect(f.trace[:])
    sx, sy, sz = shots[0]
    for i, (gx, gy, gz) in enumerate(receivers):
        t0 = math.dist((sx, sy, sz), (gx, gy, gz)) / VP + 2 / FPEAK
        n0 = math.ceil(t0 / RECORD_DT - 1e-9)
        check(np.all(m[i, :n0] == 0), f"mute: trace {i} non-zero before sample {n0}")
        check(np.any(m[i, n0:] != 0), f"mute: trace {i} all zero after sample {n0}")
    snaps = sorted(n for n in os.listdir(os.path.join(tmp, "outm")) if n.startswith("snap_00000_"))
    check(len(snaps) >= 1, "snapshots written")
    for n in snaps:
        step = int(n[len("snap_00000_"):-len(".bin")])
        check(step % 20 == 0, f"snapshot step {step} a multiple of 20")
        check(os.path.getsize(os.path.join(tmp, "outm", n)) == 21 * 17 * 9 * 4, f"snapshot {n} size")

    # A shot number outside the survey is refused before any work.
    r = run(job, 4, check=False)
    check(r.returncode == 2 and "expected a shot number in [0, 3]" in r.stderr, f"--shot 4: {r.stderr}")

    subprocess.run(["rm", "-rf", tmp])
    if failures:
        sys.exit(f"{len(failures)} failure(s)")
    print("SEG-Y headers, samples, bin output, mute and snapshots as expected")


main()
