#!/usr/bin/env bash
# bench/peers/devito.sh [BUILD_DIR] [devito_peer.py options...]
# shotq against Devito on the same jobs (bench/peers/devito_peer.py says which):
# the homogeneous VTI and TTI jobs (peak times, waveform correlation, time-loop
# Gpts/s) and issue 11's acoustic2 job (time-loop and whole-process times).
# Devito, segyio and numpy are installed from PyPI into BUILD_DIR/peers-venv
# (made on first use); they are never a dependency of shotq or make check.
# Examples:
#   bench/peers/devito.sh build                      # everything, 3 reps
#   bench/peers/devito.sh build --mode aniso --reps 2
#   bench/peers/devito.sh build --mode acoustic2 --n 200 --steps 200 --threads 2
# Exit status: 0, 1 when the VTI/TTI agreement fails, 2 when something could
# not run (the pip error is printed as it came).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-build}
shift || true
case $build in /*) ;; *) build=$root/$build ;; esac
venv=$build/peers-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import devito, segyio' 2>/dev/null; then
  python3 -m venv "$venv" || { echo "devito.sh: could not create $venv" >&2; exit 2; }
  if ! "$venv/bin/pip" install --quiet devito segyio numpy; then
    echo "devito.sh: pip install devito failed (the error is above)" >&2
    exit 2
  fi
fi
if [ ! -x "$build/shotq" ]; then
  cmake -S "$root" -B "$build" >/dev/null
  cmake --build "$build" -j "$(nproc)" --target shotq >/dev/null
fi
# On a shared machine spinning OpenMP threads lose their time slices at every
# barrier (shotq's vti step has ~15): passive waiting for both codes, unless
# the caller says otherwise.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
echo "# load average: $(cut -d' ' -f1-3 /proc/loadavg)"
rc=0
"$venv/bin/python" "$here/devito_peer.py" --shotq "$build/shotq" "$@" || rc=$?
echo "# load average: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $rc
