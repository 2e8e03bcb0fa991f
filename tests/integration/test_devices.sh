#!/usr/bin/env bash
# Integration tests of `shotq devices`: the real binary ($SHOTQ) against
# simulated devices, a fake nvidia-smi answering from recorded outputs
# (tests/data/nvsmi) and a fake NVML library built from tests/data/nvsmi/fake-nvml.c.
set -euo pipefail
: "${SHOTQ:?set SHOTQ to the shotq binary}"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
data=$(cd "$here/../data/nvsmi" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Deterministic discovery: no real NVML, no real nvidia-smi, no inherited selection.
export SHOTQ_NVML_LIB=/nonexistent/libnvidia-ml.so.1
export SHOTQ_NVIDIA_SMI=/nonexistent/nvidia-smi
unset CUDA_VISIBLE_DEVICES SHOTQ_DEVICES FAKE_NVSMI FAKE_NVML_FAIL_INIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# Runs the command in the remaining arguments, expecting exit status 2,
# nothing on stdout and exactly the one line $want on stderr.
expect_bad() {
    local want=$1
    shift
    local rc=0
    "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
    [ "$rc" -eq 2 ] || fail "$*: exit $rc, want 2"
    [ ! -s "$tmp/out" ] || fail "$*: wrote to stdout"
    [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "$*: stderr is not one line: $(cat "$tmp/err")"
    [ "$(cat "$tmp/err")" = "$want" ] || fail "$*: stderr '$(cat "$tmp/err")', want '$want'"
}

# Checks the JSON array on stdin with the Python expression in $1 (d = the array).
check_json() {
    /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
assert isinstance(d, list), "not a JSON array"
ok = eval("(" + sys.argv[1] + "\n)")
if not ok:
    sys.exit("check failed: " + sys.argv[1] + "\n" + json.dumps(d, indent=1))
' "$1"
}

# --- simulated devices: table ---
out=$("$SHOTQ" devices --devices 'sim:1080Ti:1.0:11264x2,780Ti:0.4:3072x2')
want='IDX  KIND  NAME     MEM(MiB)  FREE(MiB)  UTIL  PROCS  SPEED  UUID
  0  sim   1080Ti      11264      11264    0%      0   1.00  -
  1  sim   1080Ti      11264      11264    0%      0   1.00  -
  2  sim   780Ti        3072       3072    0%      0   0.40  -
  3  sim   780Ti        3072       3072    0%      0   0.40  -'
[ "$out" = "$want" ] || fail "sim table:
$out
want:
$want"

# --- simulated devices: JSON with every field ---
"$SHOTQ" devices --devices=sim:1080Ti:1.0:11264x2,780Ti:0.4:3072x2 --json | check_json '
len(d) == 4
and [x["index"] for x in d] == [0, 1, 2, 3]
and [x["name"] for x in d] == ["1080Ti", "1080Ti", "780Ti", "780Ti"]
and [x["ordinal"] for x in d] == [0, 1, 0, 1]
and [x["kind"] for x in d] == ["sim"] * 4
and [x["source"] for x in d] == ["sim"] * 4
and [x["speed"] for x in d] == [1.0, 1.0, 0.4, 0.4]
and [x["mem_total"] for x in d] == [11264 << 20] * 2 + [3072 << 20] * 2
and all(x["mem_free"] == x["mem_total"] for x in d)
and all(x["uuid"] == "" and x["node"] != "" for x in d)
and set(d[0]) == {"index", "kind", "name", "uuid", "pci_bus_id", "node", "ordinal",
                  "mem_total", "mem_free", "mem_reserved", "util_pct", "nprocs",
                  "mem_bus_width", "mem_clock_mhz", "ncpus", "speed", "source"}'

# --- SHOTQ_DEVICES supplies the default spec ---
SHOTQ_DEVICES='sim:z:2x3' "$SHOTQ" devices --json |
    check_json 'len(d) == 3 and all(x["name"] == "z" and x["speed"] == 2 for x in d)'

# --- cpu ---
"$SHOTQ" devices --devices cpu:2 --json |
    check_json 'len(d) == 2 and all(x["kind"] == "cpu" and x["ncpus"] >= 1 for x in d)'

# --- bad input: exit 2, one line ---
expect_bad "shotq devices: --devices 'sim:a:x': position 7: expected a speed (positive number), got 'x'" \
    "$SHOTQ" devices --devices 'sim:a:x'
expect_bad "shotq devices: SHOTQ_DEVICES 'sim:a:1x0': position 9: expected a device count (1..1000000), got '0'" \
    env SHOTQ_DEVICES='sim:a:1x0' "$SHOTQ" devices
expect_bad "shotq devices: unknown option '--bogus' (expected --devices SPEC, --json or --help)" \
    "$SHOTQ" devices --bogus
expect_bad "shotq devices: --devices needs a SPEC (see --help)" "$SHOTQ" devices --devices
expect_bad "shotq devices: --devices '': expected a SPEC, got an empty string" "$SHOTQ" devices --devices ''

"$SHOTQ" devices --help | grep -q '^usage: shotq devices' || fail "--help"

# --- no GPU back end: auto is one CPU device, a GPU spec is bad input ---
"$SHOTQ" devices --json | check_json 'len(d) == 1 and d[0]["kind"] == "cpu"'
expect_bad "shotq devices: --devices '0': no GPU back end works (nvml: /nonexistent/libnvidia-ml.so.1: cannot open shared object file: No such file or directory; nvidia-smi: cannot run /nonexistent/nvidia-smi: No such file or directory)" \
    "$SHOTQ" devices --devices 0

# --- auto with a fake nvidia-smi on PATH: the recorded mixed node ---
mkdir "$tmp/bin"
cp "$data/fake-nvidia-smi" "$tmp/bin/nvidia-smi"
export FAKE_NVSMI_DIR=$data
mixed_check='
len(d) == 4
and [x["name"] for x in d] == ["NVIDIA GeForce GTX 1080 Ti"] * 2 + ["NVIDIA GeForce GTX 780 Ti"] * 2
and [x["uuid"] for x in d] == ["GPU-5b9a1d3e-7c2f-4a8e-9f1b-2d6c8e4a7b10",
    "GPU-8e3f2c1a-4b7d-4e9a-a2c5-6f1d9b3e8a21", "GPU-1c7e9a4f-2d8b-4f3c-b6e1-9a5d2c7f4e32",
    "GPU-a4d2b8e6-9f1c-4a7e-8d3b-5c9e1f7a2d43"]
and [x["pci_bus_id"] for x in d] == ["00000000:02:00.0", "00000000:03:00.0",
    "00000000:82:00.0", "00000000:83:00.0"]
and [x["mem_total"] >> 20 for x in d] == [11264, 11264, 3072, 3072]
and [x["mem_free"] >> 20 for x in d] == [11098, 2154, 3009, 3009]
and [x["util_pct"] for x in d] == [0, 97, 0, 0]
and [x["nprocs"] for x in d] == [0, 1, 0, 0]
and all(x["kind"] == "gpu" and x["source"] == "nvidia-smi" for x in d)'
env -u SHOTQ_NVIDIA_SMI PATH="$tmp/bin:$PATH" "$SHOTQ" devices --json | check_json "$mixed_check"
SHOTQ_NVIDIA_SMI=$data/fake-nvidia-smi "$SHOTQ" devices --json | check_json "$mixed_check"
rows=$(env -u SHOTQ_NVIDIA_SMI PATH="$tmp/bin:$PATH" "$SHOTQ" devices | tail -n +2 | wc -l)
[ "$rows" -eq 4 ] || fail "auto table has $rows GPU rows, want 4"

# CUDA_VISIBLE_DEVICES narrows and reorders; spec indices are positions in it.
export SHOTQ_NVIDIA_SMI=$data/fake-nvidia-smi
CUDA_VISIBLE_DEVICES=3,1 "$SHOTQ" devices --json |
    check_json '[x["ordinal"] for x in d] == [3, 1]'
CUDA_VISIBLE_DEVICES=2,3 "$SHOTQ" devices --devices 1 --json |
    check_json 'len(d) == 1 and d[0]["uuid"] == "GPU-a4d2b8e6-9f1c-4a7e-8d3b-5c9e1f7a2d43"'
expect_bad "shotq devices: --devices '2': position 1: expected a visible GPU index (0..1), got '2'" \
    env CUDA_VISIBLE_DEVICES=2,3 "$SHOTQ" devices --devices 2
CUDA_VISIBLE_DEVICES=-1 "$SHOTQ" devices --json | check_json 'len(d) == 1 and d[0]["kind"] == "cpu"'

# The driver prints no memory in the CSV: -q -d MEMORY with its Reserved line fills it.
FAKE_NVSMI=reserved "$SHOTQ" devices --json | check_json '
[x["mem_total"] >> 20 for x in d] == [11264, 11264]
and [x["mem_reserved"] >> 20 for x in d] == [244, 244]
and [x["mem_free"] >> 20 for x in d] == [11018, 2284]
and [x["nprocs"] for x in d] == [0, 2]'

# --- NVML through a fake library ---
cc=${CC:-cc}
if command -v "$cc" >/dev/null 2>&1; then
    "$cc" -shared -fPIC -o "$tmp/libfake-nvml.so" "$data/fake-nvml.c"
    SHOTQ_NVML_LIB=$tmp/libfake-nvml.so "$SHOTQ" devices --json | check_json '
len(d) == 2
and all(x["source"] == "nvml" and x["kind"] == "gpu" for x in d)
and [x["name"] for x in d] == ["NVIDIA GeForce GTX 1080 Ti", "NVIDIA GeForce GTX 780 Ti"]
and [x["pci_bus_id"] for x in d] == ["00000000:02:00.0", "00000000:82:00.0"]
and [x["mem_free"] >> 20 for x in d] == [2154, 3009]
and [x["nprocs"] for x in d] == [1, 0]
and [x["util_pct"] for x in d] == [97, 0]
and [x["mem_bus_width"] for x in d] == [352, 384]
and [x["mem_clock_mhz"] for x in d] == [5505, 3500]
and abs(d[0]["speed"] - 352 / 8 * 5505 * 2 / 1000 / 484) < 1e-9
and abs(d[1]["speed"] - 336 / 484) < 1e-9'
    # NVML present but its init failing: nvidia-smi answers instead.
    FAKE_NVML_FAIL_INIT=1 SHOTQ_NVML_LIB=$tmp/libfake-nvml.so "$SHOTQ" devices --json |
        check_json "$mixed_check"
    # A library without the NVML symbols is "no NVML", not a crash.
    SHOTQ_NVML_LIB=libc.so.6 "$SHOTQ" devices --json | check_json "$mixed_check"
else
    echo "note: no C compiler ($cc); fake NVML checks skipped" >&2
fi

# CPU devices count the cores this process may use (affinity), not all cores.
if command -v taskset >/dev/null; then
    n=$(taskset -c 0 "$SHOTQ" devices --devices cpu:1 --json |
        /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["ncpus"])')
    [ "$n" = 1 ] || fail "cpu device under taskset -c 0 has $n cores, expected 1"
fi

echo "test_devices.sh: all checks passed"
