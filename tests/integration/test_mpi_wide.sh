# Multi-device tasks under MPI (issue 9 item 5): two ranks with two simulated
# GPUs each; every gpus=2 task runs on two devices of one node (one rank),
# never one of each, no device runs two tasks at once, and each task sees
# its group in SHOTQ_DEVICES_ASSIGNED. cpus=N with CPU devices on another
# node is refused (exit 2): their cores are known only there.
. "$(dirname "$0")/mpi_lib.sh"
. "$(dirname "$0")/lib.sh"
for i in 0 1 2 3 4 5 6 7; do
  case $i in 2|5) echo "$i weight=1" ;; *) echo "$i gpus=2 weight=2" ;; esac
done > t.txt
mpmd sim:a:1x2 sim:b:1x2 -- run -q --tasks-file t.txt --run-dir run -- \
  sh -c 'echo "$SHOTQ_TASK $SHOTQ_DEVICES_ASSIGNED" >> seen.txt; sleep 0.2'
timeout 60 "${MPMD[@]}" 2>err || { cat err; fail "mpirun failed"; }
"$PY" - run/report.json seen.txt <<'PY' || fail "groups"
import json, sys
r = json.load(open(sys.argv[1]))
node = [d["node"] for d in r["devices"]]
assert len(set(node)) == 2 and node[0] == node[1] and node[2] == node[3], node
seen = dict(l.split() for l in open(sys.argv[2]))
for t in r["tasks"]:
    devs = t["devices"]
    assert len(devs) == (1 if t["id"] in (2, 5) else 2), t
    assert len(set(node[d] for d in devs)) == 1 and len(set(devs)) == len(devs), t
    assert seen[str(t["id"])] == ",".join(map(str, devs)), (t, seen)
for a in r["tasks"]:
    for b in r["tasks"]:
        if a["id"] < b["id"] and set(a["devices"]) & set(b["devices"]):
            assert a["end_s"] <= b["start_s"] or b["end_s"] <= a["start_s"], (a, b)
PY
echo "0 cpus=2" > c.txt
mpmd cpu:1 cpu:2 -- run -q --tasks-file c.txt --run-dir c -- true
set +e; timeout 60 "${MPMD[@]}" 2>err; rc=$?; set -e
[ "$rc" = 2 ] || { cat err; fail "expected exit 2 for cpus=2 with CPU devices on rank 1, got $rc"; }
grep -q "task 0: runs on 2 devices at once (gpus=, cpus= or --gpus-per-task); expected GPU or sim devices on the other nodes" err \
  || { cat err; fail "no refusal line"; }
echo ok
