# SIGINT: no new tasks, running ones finish, exit 130; the journal lets a
# --resume finish the rest. A second SIGINT kills running tasks.
. "$(dirname "$0")/lib.sh"
"$SHOTQ" run -q --devices cpu:2 --tasks 0-19 --run-dir run -- sh -c 'sleep 0.4; echo {} >> ran.txt' &
pid=$!
sleep 0.6
kill -INT $pid
set +e; wait $pid; st=$?; set -e
[ "$st" = 130 ] || fail "expected exit 130, got $st"
n=$(wc -l < ran.txt)
[ "$n" -ge 2 ] && [ "$n" -lt 20 ] || fail "unexpected number of finished tasks: $n"
[ "$(json run/report.json 'r["summary"]["running"]')" = 0 ] || fail "tasks still running at exit"
"$SHOTQ" run -q --devices cpu:2 --tasks 0-19 --run-dir run --resume -- sh -c 'sleep 0.4; echo {} >> ran.txt'
[ "$(sort -n ran.txt | uniq | wc -l)" = 20 ] && [ "$(wc -l < ran.txt)" = 20 ] || fail "resume after SIGINT lost or repeated tasks"
# Two interrupts kill the running tasks at once.
"$SHOTQ" run -q --devices cpu:2 --tasks 0-3 --run-dir run2 -- sleep 20 &
pid=$!
sleep 0.5
kill -INT $pid; sleep 0.2; kill -INT $pid
start=$(date +%s)
set +e; wait $pid; st=$?; set -e
[ "$st" = 130 ] || fail "expected exit 130 after two interrupts, got $st"
[ $(( $(date +%s) - start )) -lt 5 ] || fail "second interrupt did not kill the tasks"
echo ok
