# Nothing survives a task (issue 7 item 5): the worker is a child subreaper
# and kills whatever a task left when it ends: a background child, a setsid
# daemon; a timed-out task's children die with it. Counts survivors.
. "$(dirname "$0")/lib.sh"
tag=$$
survivors() { { pgrep -f "sleep 31$1$tag" || true; } | wc -l; }

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

echo ok
