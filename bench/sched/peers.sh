#!/usr/bin/env bash
# bench/sched/peers.sh BUILD [SEEDS] [SCALE]: issue 12's scheduling workloads,
# shotq beside its peers, in real time on simulated devices (bench/sched/
# peers.py), then the dispatch rate and a planning run with shotq simulate.
# The peers come from PyPI into BUILD/peers-sched-venv (never a dependency of the
# product or of make check). HyperQueue is not run: its PyPI package holds
# only the Python client, and the hq server binary comes from GitHub
# releases, which this machine cannot reach.
# Prints one line per run (NAME WORKLOAD SEED makespan bound ratio), then
# min / median / max of the ratio per scheduler and workload.
set -euo pipefail
build=$(cd "$1" && pwd)
SEEDS=${2:-"1 2 3 4 5"}
SCALE=${3:-0.2}   # seconds per unit of cost, heavy-tailed workload
SMALL=0.5         # the same for the small workloads (equal, slowdown, straggler)
here=$(cd "$(dirname "$0")" && pwd)
venv=$build/peers-sched-venv  # bench/peers/devito.sh has BUILD/peers-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q ray dask distributed simple-gpu-scheduler
fi
py=$venv/bin/python
shotq=$build/shotq
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "# bench/sched/peers.sh, $(date -u +%F), $(nproc) cores, load before $(cut -d' ' -f1-3 /proc/loadavg)"
run() { "$py" "$here/peers.py" "$shotq" "$@" 2>/dev/null | tee -a "$out"; }
PEERS="parallel sgs ray-reuse dask"
# Ray's default (a fresh worker process per GPU task) only here: it costs
# seconds per task on 2 cores.
run equal 1 "$SMALL" shotq shotq-plugin $PEERS ray
run slowdown 1 "$SMALL" shotq shotq-spec parallel sgs ray-reuse dask
for s in $SEEDS; do
  run heavy "$s" "$SCALE" shotq shotq-spec shotq-plugin shotq-plugin-spec $PEERS
  run heavyw "$s" "$SCALE" shotq shotq-plugin
  run straggler "$s" "$SMALL" shotq shotq-costs shotq-plugin $PEERS
done
"$py" - "$out" <<'PY'
import collections, statistics, sys
r = collections.defaultdict(list)
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) == 6 and f[3] != "error":
        r[(f[1], f[0])].append(float(f[5]))
print("\n| workload | scheduler | makespan / bound: min – median – max (runs) |\n|---|---|---|")
for (w, n), v in sorted(r.items()):
    print(f"| {w} | {n} | {min(v):.3f} – {statistics.median(v):.3f} – {max(v):.3f} ({len(v)}) |")
PY
# Dispatch rate: 5,000 no-op tasks on 2 CPU slots, shotq then GNU parallel.
t0=$(date +%s.%N)
"$shotq" run -q --devices cpu:2 --tasks 0-4999 --run-dir "$(mktemp -d)/r" -- true
t1=$(date +%s.%N)
seq 5000 | parallel -j2 true
t2=$(date +%s.%N)
"$py" -c "import sys; a,b,c=map(float,sys.argv[1:]); print(f'\ndispatch, 5000 no-op tasks: shotq {5000/(b-a):.0f} tasks/s, GNU parallel {5000/(c-b):.0f} tasks/s')" "$t0" "$t1" "$t2"
# Planning: 1,000 nodes x 8 GPUs of three generations, 200,000 lognormal shots.
/usr/bin/time -f "%e s %M KiB" "$shotq" simulate --devices 'sim:a:1.0x8;sim:b:0.6x8;sim:c:0.3x8' \
  --nodes 1000 --tasks 200000 --cost-model lognormal:1:1 --speculate --json 2>"$out.time" |
  "$py" -c "import json,sys; r=json.load(sys.stdin); print(f'simulate 1000 x 8 GPUs, 200000 lognormal shots: makespan / bound {r[\"ratio\"]:.4f}')"
echo "  ($(cat "$out.time"))"; rm -f "$out.time"
echo "load after $(cut -d' ' -f1-3 /proc/loadavg)"
