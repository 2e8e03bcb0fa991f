# Heterogeneous devices (1, 1, 0.4, 0.4), 30 tasks of 0.4 s at speed 1: every
# task runs exactly once and the makespan is within 5 % of the optimum, 4.40 s.
. "$(dirname "$0")/lib.sh"
"$SHOTQ" run -q --devices sim:fast:1.0x2,slow:0.4x2 --tasks 0-29 --run-dir run \
  --gantt g.svg -- sh -c 'echo {} >> ran.txt; exec sleep $(awk "BEGIN{print 0.4/$SHOTQ_DEVICE_SPEED}")'
[ "$(wc -l < ran.txt)" = 30 ] || fail "expected 30 runs, got $(wc -l < ran.txt)"
[ "$(sort -n ran.txt | uniq | wc -l)" = 30 ] || fail "a task ran twice"
[ "$(sort -n ran.txt | tr '\n' ' ')" = "$(seq 0 29 | tr '\n' ' ')" ] || fail "wrong task set"
makespan=$(json run/report.json 'r["makespan_s"]')
echo "makespan $makespan s (optimum 4.40 s)"
"$PY" -c "import sys; m=float(sys.argv[1]); sys.exit(0 if 4.39 <= m <= 4.62 else 1)" "$makespan" \
  || fail "makespan $makespan not within 5 % of 4.40 s"
[ "$(json run/report.json 'r["devices"][0]["tasks_done"]+r["devices"][1]["tasks_done"]')" -ge 21 ] \
  || fail "fast devices did too few tasks"
[ "$(json run/report.json 'sum(1 for t in r["tasks"] if t["status"]=="done" and t["attempts"]==1)')" = 30 ]
grep -q '<svg' g.svg && grep -q 'makespan' g.svg || fail "no Gantt chart"
echo ok
