#!/usr/bin/env bash
# Every pre-flight check of `shotq model` refuses a bad job with exit status 2
# and one line on stderr naming the job file, the key's line and what was
# expected; warnings leave the exit status 0. Runs the real binary ($SHOTQ).
set -u
SHOTQ=${SHOTQ:?SHOTQ must name the shotq binary}
T=$(mktemp -d /tmp/test_fd_checks.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0

# job NAME [EXTRA LINES...]: writes $T/NAME.ini; extra "SECTION.key = value"
# lines replace or add keys of the base job.
job() {
    local name=$1
    shift
    /usr/bin/python3 - "$T/$name.ini" "$@" <<'EOF'
import sys
base = {
    "model": {"nx": "41", "ny": "11", "nz": "31", "dx": "10", "dy": "10", "dz": "10",
              "vp": "2000"},
    "survey": {"source_x": "100", "source_y": "50", "source_z": "20",
               "receiver_x": "0:400:20", "receiver_y": "50", "receiver_z": "10"},
    "modeling": {"nt": "50", "dt": "0.001", "fpeak": "10"},
    "output": {"dir": "out"},
}
for spec in sys.argv[2:]:
    key, val = spec.split("=", 1)
    sec, k = key.strip().split(".")
    if val.strip() == "DELETE":
        base[sec].pop(k, None)
    else:
        base[sec][k] = val.strip()
with open(sys.argv[1], "w") as f:
    for sec, kv in base.items():
        f.write("[%s]\n" % sec)
        for k, v in kv.items():
            f.write("%s = %s\n" % (k, v))
EOF
}

# Line number of "key =" in a job file.
line_of() { grep -n "^$2 =" "$T/$1.ini" | cut -d: -f1; }

# expect_fail NAME SUBSTRING [ARGS...]: exit 2, exactly one stderr line containing SUBSTRING.
expect_fail() {
    local name=$1 want=$2
    shift 2
    "$SHOTQ" model "$T/$name.ini" "$@" >"$T/stdout" 2>"$T/err"
    local rc=$? lines
    lines=$(wc -l <"$T/err")
    if [ "$rc" -ne 2 ] || [ "$lines" -ne 1 ] || ! grep -qF -- "$want" "$T/err"; then
        echo "FAIL $name: rc=$rc (want 2), $lines stderr lines (want 1), want '$want', got:"
        cat "$T/err"
        fails=$((fails + 1))
    else
        echo "ok   $name: $(cat "$T/err")"
    fi
}

# expect_warn NAME SUBSTRING [ARGS...]: exit 0 and a warning containing SUBSTRING.
expect_warn() {
    local name=$1 want=$2
    shift 2
    "$SHOTQ" model "$T/$name.ini" --check "$@" >"$T/stdout" 2>"$T/err"
    local rc=$?
    if [ "$rc" -ne 0 ] || ! grep -q "warning" "$T/err" || ! grep -qF -- "$want" "$T/err"; then
        echo "FAIL $name: rc=$rc (want 0) and a warning '$want', got:"
        cat "$T/err"
        fails=$((fails + 1))
    else
        echo "ok   $name: $(cat "$T/err")"
    fi
}

# A good job passes and reports its size.
job good
"$SHOTQ" model "$T/good.ini" --check >"$T/stdout" 2>"$T/err"
if [ $? -ne 0 ] || ! grep -q "ok: 1 shots, 21 receivers, 50 samples" "$T/stdout" || [ -s "$T/err" ]; then
    echo "FAIL good job:"; cat "$T/stdout" "$T/err"; fails=$((fails + 1))
fi

# CFL: dx = 10 m, vp = 2000: largest stable dt = 2/(2000*sqrt(6.5016*3/100)) = 2.264 ms.
job cfl "modeling.dt = 0.003"
expect_fail cfl "cfl.ini:$(line_of cfl dt): key 'dt': expected at most 0.00226" --check

# Dispersion: 2000 / (2.5 * 10 * f) points per wavelength: error below 3 (f > 26.67 Hz),
# warning below 6 (f > 13.33 Hz).
job disp_err "modeling.fpeak = 30"
expect_fail disp_err "disp_err.ini:$(line_of disp_err fpeak): key 'fpeak': expected at most 26.67 Hz" --check
job disp_warn "modeling.fpeak = 20"
expect_warn disp_warn "fpeak = 20 Hz gives 4.00 points per minimum wavelength"

# Positions outside [0, (n-1) d]: x up to 400 m, z up to 300 m.
job src_out "survey.source_x = 0:800:400"
expect_fail src_out "src_out.ini:$(line_of src_out source_x): key 'source_x': expected shot 2 inside [0, 400] m on x" --check
job rec_out "survey.receiver_z = 301"
expect_fail rec_out "rec_out.ini:$(line_of rec_out receiver_z): key 'receiver_z': expected receiver 0 inside [0, 300] m on z" --check
printf '100 50 20\n100 50 -5\n' >"$T/shots.txt"
job file_out "survey.source_x = DELETE" "survey.source_y = DELETE" "survey.source_z = DELETE" "survey.sources = shots.txt"
expect_fail file_out "key 'sources': expected shot 1 inside [0, 300] m on z" --check

# Free surface: receivers in the top cell row record zeros.
job fs "modeling.free_surface = yes" "survey.receiver_z = 0"
expect_warn fs "21 of 21 receivers lie in the top cell row (z < dz/2 = 5 m)"

# Model file of the wrong size: 41*11*31*4 = 55924 bytes expected.
head -c 1000 /dev/zero >"$T/short.bin"
job size "model.vp = short.bin"
expect_fail size "size.ini:$(line_of size vp): key 'vp': expected 55924 bytes" --check

# Non-finite and non-positive values: first bad cell named (z fastest, then x, then y).
/usr/bin/python3 - "$T" <<'EOF'
import sys, numpy as np
vp = np.full((11, 41, 31), 2000, np.float32)   # y, x, z: z fastest on disk
vp[3, 7, 5] = np.nan
vp[4, 0, 0] = -1
vp.tofile(sys.argv[1] + "/nan.bin")
rho = np.full((11, 41, 31), 1000, np.float32)
rho[2, 40, 30] = 0
rho.tofile(sys.argv[1] + "/rho0.bin")
EOF
job nan "model.vp = nan.bin"
expect_fail nan "nan.ini:$(line_of nan vp): key 'vp': expected finite values > 0, got nan at cell (ix, iy, iz) = (7, 3, 5)" --check
job rho0 "model.rho = rho0.bin" "modeling.equation = acoustic1"
expect_fail rho0 "key 'rho': expected finite values > 0, got 0 at cell (ix, iy, iz) = (40, 2, 30)" --check
job vpneg "model.vp = -1500"
expect_fail vpneg "key 'vp': expected a positive number" --check

# record_dt not a multiple of dt.
job rdt "modeling.record_dt = 0.0025"
expect_fail rdt "rdt.ini:$(line_of rdt record_dt): key 'record_dt': expected a multiple of dt = 0.001 s" --check
# SEG-Y needs whole microseconds.
job us "modeling.dt = 0.0000015" "modeling.fpeak = 5"
expect_fail us "key 'dt': expected a whole number of microseconds" --check

# Memory: 10000^3 cells cannot fit this host (checked before the model is loaded).
job mem "model.nx = 10000" "model.ny = 10000" "model.nz = 10000"
expect_fail mem "expected a device with at least" --shot 0

# Syntax and values: unknown key, bad number, unknown section, duplicate key.
job unknown "model.vpp = 3"
expect_fail unknown "unknown.ini:$(line_of unknown vpp): key 'vpp' in [model]: expected one of nx, ny" --check
job badnum "modeling.nt = 5O"
expect_fail badnum "badnum.ini:$(line_of badnum nt): key 'nt': expected an integer in [1, 100000000], got '5O'" --check
printf '[modle]\nnx = 3\n' >"$T/section.ini"
expect_fail section "section.ini:1: expected a section [model], [survey], [modeling] or [output], got '[modle]'" --check
job dup
sed -i 's/^\[model\]$/[model]\nnx = 5/' "$T/dup.ini"
expect_fail dup "key 'nx': expected one setting, got a second" --check
job nofile "model.vp = missing.bin"
expect_fail nofile "key 'vp': expected a positive number, layers V0,V1@Z1,... or a readable file" --check

# Shot numbers outside the survey and bad options.
job good2
expect_fail good2 "option --shot: expected a shot number in [0, 0], got 1" --shot 1
expect_fail good2 "option --device: expected cpu, cpu:THREADS or cuda:N, got 'tpu'" --shot 0 --device tpu
if ! nvidia-smi -L >/dev/null 2>&1; then
    expect_fail good2 "option --device: expected a usable CUDA device, got 'cuda:0'" --shot 0 --device cuda:0
fi
"$SHOTQ" model "$T/missing.ini" --check 2>"$T/err"
if [ $? -ne 2 ] || ! grep -q "missing.ini: cannot open job file" "$T/err"; then
    echo "FAIL missing job file:"; cat "$T/err"; fails=$((fails + 1))
fi

# A short wavelet file is zero-padded with a warning.
printf '0\n1\n0\n' >"$T/w.txt"
job wav "modeling.wavelet = w.txt"
expect_warn wav "wavelet $T/w.txt has 3 samples, nt = 50: zero-padded"

# --help-job lists every key from the table.
"$SHOTQ" model --help-job >"$T/help" || { echo "FAIL --help-job"; fails=$((fails + 1)); }
for k in nx ny nz dx dy dz vp rho order source_x source_y source_z sources receiver_x \
    receiver_y receiver_z receivers equation nt dt wavelet fpeak boundary boundary_width \
    free_surface record_dt mute_direct dir format snapshot_every; do
    grep -q "^  $k " "$T/help" || { echo "FAIL --help-job lacks $k"; fails=$((fails + 1)); }
done

if [ "$fails" -ne 0 ]; then
    echo "$fails check(s) failed"
    exit 1
fi
echo "all checks refused as expected"
