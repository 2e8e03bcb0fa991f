# A worker protocol that cannot be confused (issue 7 item 4): junk bytes or a
# forged DONE on the worker's socket kill the worker and fail the attempt with
# a reason; the coordinator never waits on the misbehaving worker, so other
# tasks, --timeout and SIGINT keep working. The socket is not on fd 3 and a
# plugin's forked child cannot reach it.
. "$(dirname "$0")/lib.sh"
HOSTILE="$SHOTQ_BUILD/hostile_plugin.so"
[ -f "$HOSTILE" ] || fail "no $HOSTILE"

# 1. Junk bytes from the plugin (which then sleeps 30 s): every attempt of
#    task 1 fails with a reason, the other tasks are done, long before 30 s.
printf '0\n1 junk\n2\n3\n' > junk.txt
start=$(date +%s)
set +e
timeout 25 "$SHOTQ" run -q --devices cpu:2 --tasks-file junk.txt --run-dir j --plugin "$HOSTILE" \
  2>err >/dev/null
st=$?
set -e
[ "$st" = 1 ] || { cat err; fail "junk: expected exit 1, got $st (124: the coordinator hung)"; }
[ $(( $(date +%s) - start )) -lt 20 ] || fail "junk: the coordinator waited on the worker"
[ "$(json j/report.json 'r["summary"]["done"]')" = 3 ] || fail "junk: other tasks not done"
[ "$(json j/report.json '[f["why"] for f in r["failed_attempts"]][0]')" = "invalid message from worker: wrong size" ] \
  || { json j/report.json 'r["failed_attempts"]'; fail "junk: no reason"; }
grep -q "task 1: invalid message from worker" err || { cat err; fail "junk: summary has no reason"; }

# 2. A forged, well-formed DONE (status 0) for a task that then fails: the
#    task is not counted done.
printf '0\n1 forge\n' > forge.txt
expect_status 1 timeout 25 "$SHOTQ" run -q --devices cpu:1 --tasks-file forge.txt --run-dir f \
  --plugin "$HOSTILE"
[ "$(json f/report.json '[t["status"] for t in r["tasks"] if t["id"]==1][0]')" = failed ] \
  || fail "forge: a forged DONE counted the task done"
json f/report.json '[f["why"] for f in r["failed_attempts"]]' | grep -q "invalid message from worker: wrong token" \
  || { json f/report.json 'r["failed_attempts"]'; fail "forge: no reason"; }

# 3. SIGINT after a junk-writing plugin's worker was given up, while another
#    task runs: the coordinator answers (exit 130 and a report).
printf '0 junk\n1 sleep\n' > int.txt
"$SHOTQ" run -q --devices cpu:1 --backoff 0.2:1 --tasks-file int.txt --run-dir s --plugin "$HOSTILE" \
  2>err >/dev/null &
pid=$!
sleep 1.5
kill -INT $pid; sleep 0.3; kill -INT $pid || true
set +e
timeout 20 tail --pid=$pid -f /dev/null
wait $pid
st=$?
set -e
[ "$st" = 130 ] || { cat err; fail "SIGINT: expected exit 130, got $st"; }
[ -s s/report.json ] || fail "SIGINT: no report"
grep -q "killing running tasks" err || { cat err; fail "SIGINT: the sleeping task was not running"; }

# 4. fd 3 is not the socket; a plugin's forked child reaches no socket.
printf '0 fd3\n1 fork\n' > fds.txt
"$SHOTQ" run -q --devices cpu:1 --tasks-file fds.txt --run-dir d --plugin "$HOSTILE"
grep -q "fd3 socket: 0" d/logs/task-0.1.out || { cat d/logs/task-0.1.out; fail "the socket is on fd 3"; }
grep -q "child sockets: 0" d/logs/task-1.1.out || { cat d/logs/task-1.1.out; fail "a forked child reaches the socket"; }
echo ok
