#!/bin/sh
# One task of bench/sched/peers.py for the command-line schedulers: sleeps
# for its cost on its device (as peers.py's duration() computes it, in awk
# so that starting a task costs no interpreter).
# Arguments: COST DEVICE RUN_START(epoch s) SLOWDOWN("DEV,T,F" or -) SCALE SPEEDS(a,b,...)
now=$(date +%s.%N)
exec sleep "$(awk -v c="$1" -v d="$2" -v t0="$3" -v slow="$4" -v scale="$5" -v sps="$6" -v now="$now" 'BEGIN {
  split(sps, sp, ","); s = sp[d + 1]; work = c / s; t = (now - t0) / scale
  if (slow == "-") { print scale * work; exit }
  split(slow, w, ","); if (d != w[1]) { print scale * work; exit }
  if (t >= w[2]) { print scale * work / w[3]; exit }
  before = w[2] - t
  if (work <= before) print scale * work; else print scale * (before + (work - before) / w[3])
}')"
