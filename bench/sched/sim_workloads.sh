#!/bin/bash
# bench/sched/sim_workloads.sh [SHOTQ] [SEEDS]: the issue-12 scheduling
# workloads on shotq's virtual clock (`shotq simulate`), with bounds computed
# here from the true costs. Prints one line per workload: min / median / max
# of makespan / bound over the seeds. Takes seconds; no peers (the real-time
# peer comparison needs sim devices and is not in this script yet).
#   heavy:    200 tasks, lognormal sigma=1 costs unknown to the scheduler,
#             8 devices of speeds 1,1,1,1,0.5,0.5,0.25,0.25
#   heavy+w:  the same with the true costs given as weights
#   heavy+s:  unknown costs, --speculate
#   slow:     40 equal tasks on 4 equal devices, device 0 drops to 10 % at
#             0.5 s; bound = optimum of the changed problem (13 s)
#   slow+s:   the same with --speculate
#   strag:    40 equal tasks on 4 equal devices, one costs 10x (unknown),
#             position by seed; optimum 13 s (10 + 3 | 13 | 13 | ...)
#   eft-ref:  not shotq: clairvoyant list scheduling of the heavy workload in
#             its given order (each task, in order, to the device where it
#             would end first, true costs known). No scheduler that starts
#             tasks in the order given, knowing costs or not, can count on
#             doing better; only reordering by known costs (heavy+w, LPT) can.
set -eu
B=${1:-build/shotq}
SEEDS=${2:-"1 2 3 4 5"}
DEV8=sim:f:1x4,m:0.5x2,s:0.25x2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
py=$(command -v python3)

# True costs: the same generator as `shotq simulate --cost-model` would use is
# not needed here: the costs file is written here and given to both runs.
gen() { # seed n sigma -> file with one cost per line
    "$py" -c "
import random,sys
r=random.Random(int(sys.argv[1]))
for i in range(int(sys.argv[2])): print(r.lognormvariate(0,float(sys.argv[3])))" "$@"
}
ratio() { # JSON on stdin, bound -> makespan / bound
    "$py" -c "import json,sys; print(json.load(sys.stdin)['makespan_s']/float(sys.argv[1]))" "$1"
}
bound() { # costs file, speeds... -> max(sum c / sum s, max c / max s)
    "$py" -c "
import sys
c=[float(x) for x in open(sys.argv[1])]; s=[float(x) for x in sys.argv[2:]]
print(max(sum(c)/sum(s), max(c)/max(s)))" "$@"
}
summary() { # name ratios... -> min median max
    "$py" -c "
import statistics,sys
v=sorted(float(x) for x in sys.argv[2:])
print(f'{sys.argv[1]:10s} min {v[0]:.3f}  median {statistics.median(v):.3f}  max {v[-1]:.3f}  ({len(v)} seeds)')" "$@"
}

declare -A R
for s in $SEEDS; do
    gen "$s" 200 1 >"$tmp/c$s"
    awk '{printf "%d weight=%s\n", NR-1, $1}' "$tmp/c$s" >"$tmp/w$s"
    lb=$(bound "$tmp/c$s" 1 1 1 1 0.5 0.5 0.25 0.25)
    R[heavy]+=" $("$B" simulate --devices $DEV8 --tasks 200 --costs-file "$tmp/c$s" --json | ratio "$lb")"
    R[heavy+s]+=" $("$B" simulate --devices $DEV8 --tasks 200 --costs-file "$tmp/c$s" --speculate --json | ratio "$lb")"
    R[heavy+w]+=" $("$B" simulate --devices $DEV8 --tasks-file "$tmp/w$s" --json | ratio "$lb")"
    R[eft-ref]+=" $("$py" -c "
import sys
c=[float(x) for x in open(sys.argv[1])]; sp=[1,1,1,1,.5,.5,.25,.25]; f=[0.0]*8
for x in c:
    j=min(range(8), key=lambda j: f[j]+x/sp[j]); f[j]+=x/sp[j]
print(max(f)/float(sys.argv[2]))" "$tmp/c$s" "$lb")"
    awk -v k=$(((s * 7) % 40)) '{print (NR-1==k) ? 10 : 1}' <(seq 40) >"$tmp/g$s"
    R[strag]+=" $("$B" simulate --devices sim:f:1x4 --tasks 40 --costs-file "$tmp/g$s" --json | ratio 13)"
done
R[slow]=" $("$B" simulate --devices sim:f:1x4 --tasks 40 --slowdown 0@0.5:0.1 --json | ratio 13)"
R[slow+s]=" $("$B" simulate --devices sim:f:1x4 --tasks 40 --slowdown 0@0.5:0.1 --speculate --json | ratio 13)"
echo "shotq simulate, $(date -u +%F), load $(cut -d' ' -f1-3 /proc/loadavg)"
for k in heavy heavy+s heavy+w eft-ref slow slow+s strag; do
    # shellcheck disable=SC2086
    summary "$k" ${R[$k]}
done
