# Logs a user can trust: live output under the final name, a timed-out
# task's output kept and named, attempt numbers continue across --resume,
# --max-log truncates with a marker, a symlinked logs/ is refused, and a log
# of an attempt the journal never recorded is stepped over on --resume.
. "$(dirname "$0")/lib.sh"

# wait_for CMD...: polls CMD until it succeeds (at most ~20 s; not a timing
# assertion, only a bound so that a broken build fails instead of hanging).
# LOGS_ONLY=N runs check N alone (to see each fail on older code).
want() { [ -z "${LOGS_ONLY:-}" ] || [ "$LOGS_ONLY" = "$1" ]; }

wait_for() { for _ in $(seq 400); do "$@" && return 0; sleep 0.05; done; return 1; }

# 1. Live output is in logs/task-ID.ATTEMPT.out while the task runs.
if want 1; then
"$SHOTQ" run -q --devices cpu:1 --tasks 0 --run-dir live -- \
  sh -c 'echo live-line; while [ ! -e go ]; do sleep 0.05; done; echo after' &
pid=$!
wait_for grep -qs live-line live/logs/task-0.1.out ||
  { touch go; wait $pid || true; fail "no live output under logs/task-0.1.out"; }
ls -a live/logs | grep -q spool && { touch go; fail "spool files: $(ls -a live/logs)"; }
touch go
wait $pid || fail "live run failed"
[ "$(cat live/logs/task-0.1.out)" = "live-line
after" ] || fail "live log: $(cat live/logs/task-0.1.out)"
[ ! -e live/logs/task-0.1.err ] || fail "an empty .err log is left"
fi

# 2. A timed-out task keeps its output; the summary and report.json name only
#    logs that exist.
if want 2; then
expect_status 1 "$SHOTQ" run -q --devices cpu:2 --tasks 0-1 --timeout 1 --retries 0 \
  --run-dir to -- sh -c 'if [ $1 = 0 ]; then echo before-timeout; echo err-line >&2; fi; exec sleep 30' x {}
[ "$(cat to/logs/task-0.1.out)" = before-timeout ] || fail "timed-out output lost"
[ "$(cat to/logs/task-0.1.err)" = err-line ] || fail "timed-out stderr lost"
grep -q "task 0: timeout.*logs: to/logs/task-0.1.out, to/logs/task-0.1.err" err ||
  { cat err; fail "summary does not name task 0's logs"; }
grep -q "task 1: timeout.*logs: none" err || { cat err; fail "summary names logs of a silent task"; }
[ ! -e to/logs/task-1.1.out ] && [ ! -e to/logs/task-1.1.err ] || fail "empty logs of a killed task left"
named=$(json to/report.json '" ".join(l for f in r["failed_attempts"] for l in f["logs"])')
[ "$named" = "logs/task-0.1.out logs/task-0.1.err" ] || fail "report.json names: $named"
for l in $named; do [ -s "to/$l" ] || fail "report.json names a missing log $l"; done
fi

# 3. kill -9 of the coordinator, then --resume: attempt numbers continue, the
#    old attempt's log is intact.
if want 3; then
RUNTAG=a "$SHOTQ" run -q --devices cpu:1 --tasks 0 --retries 0 --run-dir rs -- \
  sh -c 'echo run-$RUNTAG; [ $RUNTAG = a ] && { touch started; exec sleep 30; }; true' &
pid=$!
wait_for test -e started || { kill -9 $pid; fail "resume task did not start"; }
wait_for grep -qs run-a rs/logs/task-0.1.out || true # checked after the resume
kill -9 $pid
wait $pid 2>/dev/null || true
RUNTAG=b "$SHOTQ" run -q --devices cpu:1 --tasks 0 --retries 0 --run-dir rs --resume -- \
  sh -c 'echo run-$RUNTAG; [ $RUNTAG = a ] && { touch started; exec sleep 30; }; true' ||
  fail "resume failed"
[ "$(cat rs/logs/task-0.1.out)" = run-a ] || fail "attempt 1's log overwritten: $(cat rs/logs/task-0.1.out)"
[ "$(cat rs/logs/task-0.2.out 2>/dev/null)" = run-b ] || fail "resumed attempt is not 2: $(ls rs/logs)"
grep -q '"ev":"done","task":0,"attempt":2' rs/journal || { cat rs/journal; fail "journal attempt"; }
fi

# 4. --max-log caps each stream with a marker; the task still exits 0.
if want 4; then
"$SHOTQ" run -q --devices cpu:1 --tasks 0 --max-log 1 --run-dir cap -- \
  sh -c 'head -c 3000000 /dev/zero | tr "\0" x; echo; echo small >&2' || fail "capped task failed"
size=$(head -c 1048576 cap/logs/task-0.1.out | tr -d x | wc -c)
[ "$size" = 0 ] || fail "the first MiB is not the task's output"
[ "$(tail -n 1 cap/logs/task-0.1.out)" = "[shotq: log truncated at 1 MiB, 1951425 bytes dropped]" ] ||
  fail "marker: $(tail -c 200 cap/logs/task-0.1.out)"
[ "$(wc -l < cap/logs/task-0.1.out)" = 2 ] || fail "more than the cap kept"
[ "$(cat cap/logs/task-0.1.err)" = small ] || fail "stderr capped too"
for bad in 0 abc -3; do
  expect_status 2 "$SHOTQ" run -q --devices cpu:1 --tasks 0 --max-log "$bad" --run-dir bad -- true
  [ "$(wc -l < err)" = 1 ] && grep -q -- "--max-log '$bad'" err || { cat err; fail "--max-log $bad message"; }
done
[ ! -e bad ] || fail "bad --max-log created the run directory"
fi

# 5. A RUN_DIR/logs that is a symlink is refused, nothing written through it.
if want 5; then
mkdir sl elsewhere
ln -s "$WORK/elsewhere" sl/logs
expect_status 2 "$SHOTQ" run -q --devices cpu:1 --tasks 0 --run-dir sl -- echo hi
[ "$(wc -l < err)" = 1 ] && grep -q "sl/logs: is a symbolic link" err || { cat err; fail "symlink message"; }
[ -z "$(ls -A elsewhere)" ] || fail "wrote through the symlink: $(ls elsewhere)"
fi

# 6. A log left by an attempt the journal never recorded (the coordinator
#    died between sending it and journalling its start): --resume starts
#    past it instead of failing on "File exists", and leaves it intact.
if want 6; then
cmd='echo attempt $SHOTQ_ATTEMPT; test "$SHOTQ_TASK" = 0 || test -e ok'
expect_status 1 "$SHOTQ" run -q --devices cpu:1 --tasks 0-1 --retries 0 --run-dir un -- sh -c "$cmd"
echo unjournalled > un/logs/task-1.2.err
: > un/logs/task-1.2.out # an empty log of an attempt running at a crash
touch ok
expect_status 0 "$SHOTQ" run -q --devices cpu:1 --tasks 0-1 --retries 0 --run-dir un --resume -- sh -c "$cmd"
[ "$(cat un/logs/task-1.3.out 2>/dev/null)" = "attempt 3" ] || { ls un/logs; fail "resumed attempt not numbered past the stray log"; }
[ "$(cat un/logs/task-1.2.err)" = unjournalled ] || fail "stray log overwritten"
[ ! -e un/logs/task-1.2.out ] || fail "an empty stray log is left"
fi

echo ok
