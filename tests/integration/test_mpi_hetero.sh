# Three MPI ranks on one machine: rank 0 one fast device, rank 1 one fast,
# rank 2 two slow (speed 0.4). 30 tasks of 0.4 s at speed 1: every task runs
# exactly once, the report lists 4 devices on 3 nodes, the makespan is within
# 10 % of the optimum 4.40 s, and the slow node does proportionally fewer.
. "$(dirname "$0")/mpi_lib.sh"
. "$(dirname "$0")/lib.sh"
mpmd sim:f0:1.0 sim:f1:1.0 sim:s:0.4x2 -- run -q --tasks 0-29 --run-dir run --gantt g.svg -- \
  sh -c 'echo {} >> ran.txt; exec sleep $(awk "BEGIN{print 0.4/$SHOTQ_DEVICE_SPEED}")'
t0=$(date +%s.%N)
timeout 60 "${MPMD[@]}"
t1=$(date +%s.%N)
[ "$(wc -l < ran.txt)" = 30 ] || fail "expected 30 runs, got $(wc -l < ran.txt)"
[ "$(sort -n ran.txt | tr '\n' ' ')" = "$(seq 0 29 | tr '\n' ' ')" ] || fail "a task ran twice or not at all"
[ "$(json run/report.json 'len(r["devices"])')" = 4 ] || fail "expected 4 devices"
[ "$(json run/report.json 'len(set(d["node"] for d in r["devices"]))')" = 3 ] \
  || fail "expected 3 nodes: $(json run/report.json '[d["node"] for d in r["devices"]]')"
# Rank order: rank 0's device first, then rank 1's, then rank 2's two.
[ "$(json run/report.json '",".join(d["name"] for d in r["devices"])')" = f0,f1,s,s ] \
  || fail "devices not in rank order"
[ "$(json run/report.json 'int(r["devices"][2]["node"]==r["devices"][3]["node"])')" = 1 ] \
  || fail "rank 2's devices on different nodes"
# The Gantt chart names each row's node.
for node in $(json run/report.json '" ".join(sorted(set(d["node"] for d in r["devices"])))'); do
  grep -q "@$node<" g.svg || fail "Gantt chart lacks node $node"
done
makespan=$(json run/report.json 'r["makespan_s"]')
echo "makespan $makespan s (optimum 4.40 s); mpirun wall $("$PY" -c "print(round($t1-$t0,3))") s"
echo "tasks per device: $(json run/report.json '[(d["node"],d["name"],d["tasks_done"]) for d in r["devices"]]')"
"$PY" -c "import sys; m=float(sys.argv[1]); sys.exit(0 if 4.39 <= m <= 4.84 else 1)" "$makespan" \
  || fail "makespan $makespan not within 10 % of 4.40 s"
slow=$(json run/report.json 'r["devices"][2]["tasks_done"]+r["devices"][3]["tasks_done"]')
# Speeds 1 + 1 vs 0.4 + 0.4: the slow node's share is 8.6 of 30 tasks.
[ "$slow" -ge 6 ] && [ "$slow" -le 10 ] || fail "slow node did $slow tasks (expected 6-10)"
[ "$(json run/report.json 'min(r["devices"][0]["tasks_done"],r["devices"][1]["tasks_done"])')" -ge 10 ] \
  || fail "a fast node did fewer than 10 tasks"
[ "$(json run/report.json 'sum(1 for t in r["tasks"] if t["status"]=="done" and t["attempts"]==1)')" = 30 ]
echo ok
