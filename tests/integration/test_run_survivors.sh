# Nothing survives a task (issue 7 item 5): the worker is a child subreaper
# and kills whatever a task left when it ends: a background child, a setsid
# daemon; a timed-out task's children die with it. And when a worker or the
# coordinator itself is killed from outside, the guard (exec/guard.h) kills
# what escaped. Counts survivors in each case.
. "$(dirname "$0")/lib.sh"
tag=$$
survivors() { { pgrep -f "^sleep 31$1$tag" || true; } | wc -l; }

# 1. Each task leaves a background child and a setsid daemon, then exits 0.
"$SHOTQ" run -q --devices cpu:2 --tasks 0-3 --run-dir bg -- \
  sh -c "sleep 311$tag </dev/null >/dev/null 2>&1 & setsid sleep 311$tag </dev/null >/dev/null 2>&1 & echo started"
sleep 0.5
n=$(survivors 1)
[ "$n" = 0 ] || { pkill -f "sleep 311$tag" || true; fail "$n process(es) survived their task"; }

# 2. A task past --timeout, with a background child: none survives.
expect_status 1 "$SHOTQ" run -q --devices cpu:1 --tasks 0 --retries 0 --timeout 0.5 --run-dir to -- \
  sh -c "sleep 312$tag </dev/null >/dev/null 2>&1 & sleep 30"
sleep 0.5
n=$(survivors 2)
[ "$n" = 0 ] || { pkill -f "sleep 312$tag" || true; fail "$n process(es) survived a timed-out task"; }

# waits up to 5 s for a process matching $1 to appear.
wait_for() { for _ in $(seq 50); do pgrep -f "$1" >/dev/null && return 0; sleep 0.1; done; fail "no $1"; }

# 3. A worker killed with SIGKILL while its task holds a setsid daemon.
"$SHOTQ" run -q --devices cpu:1 --tasks 0 --retries 0 --run-dir wk -- \
  sh -c "setsid sleep 313$tag </dev/null >/dev/null 2>&1 & sleep 30" 2>/dev/null &
coord=$!
wait_for "^sleep 313$tag"
pkill -KILL -f "shotq worker .*--coordinator $coord" || fail "no worker of $coord"
set +e; wait $coord; set -e
sleep 0.5
n=$(survivors 3)
[ "$n" = 0 ] || { pkill -f "sleep 313$tag" || true; fail "$n process(es) survived a killed worker"; }

# 4. The coordinator killed with SIGKILL while a task holds a background
#    child and a setsid daemon: nothing is left 1 s later.
"$SHOTQ" run -q --devices cpu:2 --tasks 0-1 --run-dir ck -- \
  sh -c "sleep 314$tag </dev/null >/dev/null 2>&1 & setsid sleep 314$tag </dev/null >/dev/null 2>&1 & sleep 30" 2>/dev/null &
coord=$!
for _ in $(seq 50); do [ "$(survivors 4)" -ge 4 ] && break; sleep 0.1; done
kill -KILL $coord
set +e; wait $coord; set -e
sleep 1
n=$(survivors 4)
[ "$n" = 0 ] || { pkill -f "sleep 314$tag" || true; fail "$n process(es) survived the coordinator's death"; }

echo ok
