#!/usr/bin/env bash
# bench/sched/heavy_tail.sh BUILD [SEEDS] [SCALE]: issue 12's heavy-tailed
# workload in real time on simulated devices. 200 tasks whose costs are
# lognormal(0, 1) (unknown to the schedulers: every task has weight 1, or,
# for "shotq +w", the true costs as weights) on 8 devices of speeds
# 1,1,1,1,0.5,0.5,0.25,0.25; a task sleeps SCALE x cost / speed seconds
# (SCALE 0.05: a run takes ~4 s). Bound = max(sum c / sum s, max c / max s)
# x SCALE, computed here. Peers: GNU parallel -j8 (slot k = device k).
# Prints makespan / bound per seed and scheduler, then min / median / max.
set -euo pipefail
build=$1
SEEDS=${2:-"1 2 3 4 5"}
SCALE=${3:-0.05}
shotq=$(cd "$build" && pwd)/shotq
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
speeds=(1 1 1 1 0.5 0.5 0.25 0.25)
devs=sim:f:1x4,m:0.5x2,s:0.25x2
echo "## heavy-tailed unknown costs: 200 tasks, lognormal sigma=1, speeds ${speeds[*]}, scale $SCALE s"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) (machine shared with other helpers)"
: >results
for s in $SEEDS; do
  /usr/bin/python3 -c "
import random,sys
r=random.Random(int(sys.argv[1]))
for i in range(200): print(r.lognormvariate(0,1))" "$s" >"costs$s"
  awk '{printf "%d weight=%s\n", NR-1, $1}' "costs$s" >"w$s"
  seq 0 199 >"u$s"
  lb=$(/usr/bin/python3 -c "
import sys
c=[float(x) for x in open(sys.argv[1])]; s=[1,1,1,1,.5,.5,.25,.25]
print(max(sum(c)/sum(s), max(c)/max(s))*float(sys.argv[2]))" "costs$s" "$SCALE")
  task="exec sleep \$(awk -v t=\$SHOTQ_TASK -v sp=\$SHOTQ_DEVICE_SPEED 'NR==t+1{print $SCALE*\$1/sp}' $work/costs$s)"
  for variant in "shotq:u" "shotq+w:w"; do
    name=${variant%%:*} file=${variant##*:}
    "$shotq" run -q --devices "$devs" --tasks-file "$file$s" --run-dir "r-$name-$s" -- sh -c "$task"
    /usr/bin/python3 -c "import json;r=json.load(open('r-$name-$s/report.json'));print('$name', $s, r['makespan_s']/$lb, r['makespan_s'], r.get('lower_bound_s'))" >>results
  done
  start=$(date +%s.%N)
  parallel -j8 "sp=\$(echo ${speeds[*]} | cut -d' ' -f{%}); sleep \$(awk -v sp=\$sp 'NR=={}+1{print $SCALE*\$1/sp}' costs$s)" <"u$s"
  end=$(date +%s.%N)
  echo "parallel $s $(/usr/bin/python3 -c "print(($end-$start)/$lb)")" >>results
done
cat results
/usr/bin/python3 - <<'PY'
import statistics
rows=[l.split() for l in open('results')]
for name in dict.fromkeys(r[0] for r in rows):
    v=sorted(float(r[2]) for r in rows if r[0]==name)
    print(f"{name:10s} makespan/bound min {v[0]:.3f} median {statistics.median(v):.3f} max {v[-1]:.3f} ({len(v)} seeds)")
PY
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
