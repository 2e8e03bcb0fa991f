# Faults across nodes (2 MPI ranks, one device each; device 1 is rank 1's):
# plugin tasks failing on rank 0's device are retried on the other node and
# the device is quarantined; a remote task past --timeout is killed on its
# node and retried; a plugin crashing a remote worker; logs of remote tasks;
# a node agent with bad devices is bad input.
. "$(dirname "$0")/mpi_lib.sh"
. "$(dirname "$0")/lib.sh"

# 1. Plugin mode; every task fails on device 0: retried on device 1 (rank 1),
#    device 0 quarantined after 3 failures, each worker initialised once.
mkdir inits
for i in $(seq 0 19); do echo "$i fail-on=0"; done > tasks.txt
mpmd sim:a:1 sim:b:1 -- run -q --tasks-file "$WORK/tasks.txt" --run-dir p --plugin "$PLUGIN" \
  --plugin-config "initdir=$WORK/inits sleep=0.01"
timeout 60 "${MPMD[@]}"
[ "$(ls inits | wc -l)" = 2 ] || fail "expected 2 worker inits (one per node), got $(ls inits | wc -l)"
[ "$(json p/report.json 'r["summary"]["done"]')" = 20 ] || fail "not every task done"
[ "$(json p/report.json 'all(t["device"]==1 for t in r["tasks"])')" = True ] \
  || fail "a task was recorded done on device 0"
[ "$(json p/report.json 'r["devices"][0]["quarantined"]')" = True ] || fail "device 0 not quarantined"
[ "$(json p/report.json 'len(r["failed_attempts"])')" = 3 ] || fail "expected 3 failed attempts"
[ "$(json p/report.json 'r["devices"][0]["node"]!=r["devices"][1]["node"]')" = True ]
# Logs of tasks run on rank 1's node (one file system here).
grep -q "slept" p/logs/task-5.*.out || fail "remote task's output not captured"
grep -q "this device (0) cannot run it" p/logs/task-*.1.err || fail "failed attempt's log missing"

# 2. A task hanging on device 1 (rank 1) past --timeout: killed there with its
#    children, retried, done.
start=$(date +%s.%N)
mpmd sim:a:1 sim:b:1 -- run -q --tasks 0-3 --timeout 0.5 --run-dir hang -- \
  sh -c "if [ \"\$SHOTQ_DEVICE\" = 1 ] && [ \"\$SHOTQ_ATTEMPT\" = 1 ]; then sleep 31$$; fi"
timeout 60 "${MPMD[@]}"
took=$("$PY" -c "import sys,time; print(time.time()-float(sys.argv[1]))" "$start")
"$PY" -c "import sys; sys.exit(0 if float(sys.argv[1]) < 10 else 1)" "$took" || fail "timeout not enforced ($took s)"
[ "$(json hang/report.json 'r["summary"]["done"]')" = 4 ]
[ "$(json hang/report.json 'len(r["failed_attempts"])>=1 and all(f["device"]==1 and f["exit_code"]==124 for f in r["failed_attempts"])')" = True ] \
  || fail "expected timeouts on device 1: $(json hang/report.json 'r["failed_attempts"]')"
sleep 0.3
! pgrep -f "^sleep 31$$\$" >/dev/null || fail "the hung task's process survived"

# 3. A plugin crashing its worker on every attempt: the remote worker is
#    restarted; the task fails after its retries; the others are done.
printf '0\n1\n2 crash\n3\n4\n5\n' > crash.txt
rm -f inits/*
mpmd sim:a:1 sim:b:1 -- run -q --tasks-file "$WORK/crash.txt" --run-dir crash \
  --plugin "$PLUGIN" --plugin-config "initdir=$WORK/inits"
set +e; timeout 60 "${MPMD[@]}" 2> err; st=$?; set -e
[ "$st" = 1 ] || { cat err; fail "expected exit 1, got $st"; }
[ "$(json crash/report.json '[t["status"] for t in r["tasks"]].count("done")')" = 5 ]
[ "$(json crash/report.json '[t for t in r["tasks"] if t["id"]==2][0]["exit_code"]')" = 139 ]
[ "$(json crash/report.json 'sorted(set(f["device"] for f in r["failed_attempts"]))')" = "[0, 1]" ] \
  || fail "expected the crash on both nodes: $(json crash/report.json 'r["failed_attempts"]')"
grep -q "worker killed by signal 11" err || fail "crash not reported"
# The summary says on which node the logs of the last attempt are.
last=$(json crash/report.json '[t for t in r["tasks"] if t["id"]==2][0]["device"]')
node1=$(json crash/report.json 'r["devices"][1]["node"]')
if [ "$last" = 1 ]; then grep -q "task 2: .*logs: .* on node $node1" err || { cat err; fail "log node not named"; }
else ! grep -q "on node" err || fail "log node named for a local task"; fi

# 4. Bad devices on a node agent: bad input, named with its rank; nothing starts.
mpmd sim:a:1 sim:bad -- run -q --tasks 0-3 --run-dir bad -- true
set +e; timeout 60 "${MPMD[@]}" > out 2> err; st=$?; set -e
[ "$st" = 2 ] || { cat err; fail "expected exit 2, got $st"; }
grep -q "rank 1 (.*): .*sim:bad" err || { cat err; fail "agent's error not named"; }
[ ! -e bad ] || fail "bad input created the run directory"
echo ok
