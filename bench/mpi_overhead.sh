#!/usr/bin/env bash
# Cross-node dispatch overhead: 4 MPI ranks on this machine (rank 0 the
# coordinator, ranks 1-3 node agents), one simulated device each, against one
# node with the same 4 devices.
#  - throughput: no-op command tasks and no-op plugin tasks, static policy
#    (task i -> device i mod 4: three quarters go through a node agent; the
#    dynamic policy would keep such short tasks on the first devices up);
#  - latency: tasks of 50 ms (too long to be prefetched), the gap between one
#    task's end and the next one's start on the same device, local devices
#    against devices behind a node agent.
set -euo pipefail
build=$1
shotq=$build/shotq
command -v mpirun >/dev/null || { echo "## multi-node: SKIP (no mpirun)"; exit 0; }
"$shotq" run --help | grep -q "This build: with MPI" || { echo "## multi-node: SKIP (built without MPI)"; exit 0; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# One machine: shared memory between ranks, Open MPI's own channel on loopback only.
export OMPI_MCA_btl=self,vader OMPI_MCA_oob_tcp_if_include=lo OMPI_MCA_btl_tcp_if_include=lo
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
now() { date +%s.%N; }
py() { /usr/bin/python3 -c "$@"; }
rate() { py "import sys;print('%.0f'%(float(sys.argv[1])/(float(sys.argv[3])-float(sys.argv[2]))))" "$@"; }
span() { py "import json;r=json.load(open('$1/report.json'));print('%.0f'%($2/r['makespan_s']))"; }
mpi4() { mpirun --oversubscribe -np 4 -x SHOTQ_DEVICES=sim:n:1 "$shotq" "$@"; }
echo "## multi-node: 4 ranks x 1 device vs 1 node x 4 devices ($(nproc) cores, one machine)"
for rep in 1 2 3; do
  t0=$(now); "$shotq" run -q --policy static --devices sim:n:1x4 --tasks 0-3999 --run-dir l$rep -- true; t1=$(now)
  lw=$(rate 4000 "$t0" "$t1"); ls=$(span l$rep 4000)
  t0=$(now); mpi4 run -q --policy static --tasks 0-3999 --run-dir m$rep -- true; t1=$(now)
  mw=$(rate 4000 "$t0" "$t1"); ms=$(span m$rep 4000)
  echo "4000 no-op commands: 1 node $ls tasks/s (wall $lw); 4 ranks $ms tasks/s (wall $mw, incl. mpirun start-up)"
done
for rep in 1 2 3; do
  "$shotq" run -q --policy static --devices sim:n:1x4 --tasks 0-99999 --run-dir pl$rep --plugin "$build/example_plugin.so"
  mpi4 run -q --policy static --tasks 0-99999 --run-dir pm$rep --plugin "$build/example_plugin.so"
  echo "100000 no-op plugin tasks: 1 node $(span pl$rep 100000) tasks/s; 4 ranks $(span pm$rep 100000) tasks/s"
  rm -rf pl$rep pm$rep
done
gaps='
import json, sys
r = json.load(open(sys.argv[1] + "/report.json"))
nodes = [d["node"] for d in r["devices"]]
def gap(devs):
    g = []
    for d in devs:
        ts = sorted((t["start_s"], t["end_s"]) for t in r["tasks"] if t["device"] == d)
        g += [b[0] - a[1] for a, b in zip(ts, ts[1:])]
    return 1000 * sum(g) / len(g)
local = [d for d in range(len(nodes)) if nodes[d] == nodes[0]]
remote = [d for d in range(len(nodes)) if nodes[d] != nodes[0]]
print("%.2f %.2f" % (gap(local), gap(remote) if remote else float("nan")))
'
for rep in 1 2 3; do
  "$shotq" run -q --policy static --devices sim:n:1x4 --tasks 0-159 --run-dir sl$rep -- sleep 0.05
  mpi4 run -q --policy static --tasks 0-159 --run-dir sm$rep -- sleep 0.05
  read -r l1 _ < <(py "$gaps" sl$rep)
  read -r l0 lr < <(py "$gaps" sm$rep)
  echo "50 ms tasks, gap end -> next start per device: 1 node $l1 ms; 4 ranks: rank 0's device $l0 ms, agents' devices $lr ms"
done
