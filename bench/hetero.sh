#!/usr/bin/env bash
# Heterogeneous node: 4 simulated GPUs (speeds 1, 1, 0.4, 0.4), 30 tasks that
# sleep 0.4 / speed seconds. Optimum 4.40 s. Compares shotq's dynamic policy
# with its static and memfree (the article's rule) policies and GNU parallel
# with one job slot per GPU.
set -euo pipefail
build=$1
shotq=$build/shotq
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
task='exec sleep $(awk "BEGIN{print 0.4/$SHOTQ_DEVICE_SPEED}")'
devs=sim:fast:1.0x2,slow:0.4x2
echo "## heterogeneous node: 30 tasks, speeds 1,1,0.4,0.4, optimum 4.40 s"
for rep in 1 2 3; do
  for pol in dynamic static memfree; do
    "$shotq" run -q --policy "$pol" --devices "$devs" --tasks 0-29 --run-dir "$pol$rep" -- sh -c "$task"
    /usr/bin/python3 -c "import json;r=json.load(open('$pol$rep/report.json'));print('shotq %-8s makespan %.3f s  (%.1f %% over 4.40)'%('$pol',r['makespan_s'],100*(r['makespan_s']/4.4-1)))"
  done
  if command -v parallel >/dev/null; then
    # Slot k of 4 is GPU k: slots 1,2 fast, 3,4 slow.
    start=$(date +%s.%N)
    seq 0 29 | parallel -j4 'sp=$(awk "BEGIN{print ({%}<=2)?1.0:0.4}"); sleep $(awk "BEGIN{print 0.4/$sp}")'
    end=$(date +%s.%N)
    /usr/bin/python3 -c "m=$end-$start;print('GNU parallel -j4   makespan %.3f s  (%.1f %% over 4.40)'%(m,100*(m/4.4-1)))"
  fi
done
