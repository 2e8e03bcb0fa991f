# Exit status and counts: a run whose report.json, --report or --gantt could
# not be written exits 1 with one line naming the file and the errno text, and
# still prints its final line; tasks never run are "pending" in report.json
# and counted as not run in the final line.
. "$(dirname "$0")/lib.sh"
final() { # final LINE: the last line of err is LINE (makespans masked)
  local got; got=$(tail -n 1 err | sed -E 's/makespan [0-9.]+ s \(lower bound [0-9.]+ s\)/makespan X/')
  [ "$got" = "$1" ] || { cat err; fail "final line: expected '$1', got '$got'"; }
}
has() { grep -qxF -- "$1" err || { cat err; fail "missing the line: $1"; }; }
has_re() { grep -qxE -- "$1" err || { cat err; fail "missing a line matching: $1"; }; }

# --report and --gantt into a directory that does not exist.
expect_status 1 "$SHOTQ" run --devices cpu:1 --tasks 0-2 --run-dir a \
  --report nodir/r.json --gantt nodir/g.svg -- true
has_re "shotq: error: --report: nodir/r\.json\.tmp\.[0-9]+: cannot create: No such file or directory"
has_re "shotq: error: --gantt: nodir/g\.svg\.tmp\.[0-9]+: cannot create: No such file or directory"
final "shotq: 3 done (0 of them by an earlier run), 0 failed, 0 not run; makespan X; report a/report.json"
[ "$(json a/report.json 'len(r["tasks"])')" = 3 ] || fail "RUN_DIR/report.json not written"

# RUN_DIR/report.json cannot be written (a directory is in its place).
mkdir -p b/report.json
expect_status 1 "$SHOTQ" run --devices cpu:1 --tasks 0-2 --run-dir b -- true
has "shotq: error: b/report.json: cannot rename the temp file into place: Is a directory"
final "shotq: 3 done (0 of them by an earlier run), 0 failed, 0 not run; makespan X; report b/report.json (not written)"
expect_status 1 "$SHOTQ" run -q --devices cpu:1 --tasks 0-2 --run-dir b --resume -- true
[ "$(cat err)" = "shotq: error: b/report.json: cannot rename the temp file into place: Is a directory" ] || { cat err; fail "-q: one line"; }

# A read-only directory for --report (root writes there anyway: skipped).
if [ "$(id -u)" != 0 ]; then
  mkdir ro && chmod 555 ro
  expect_status 1 "$SHOTQ" run -q --devices cpu:1 --tasks 0 --run-dir c --report ro/r.json -- true
  grep -qxE "shotq: error: --report: ro/r\.json\.tmp\.[0-9]+: cannot create: Permission denied" err \
    || { cat err; fail "read-only --report"; }
  chmod 755 ro
else
  echo "running as root: the read-only directory case is not checked"
fi

# Tasks never run (--halt stops dispatch): "pending" in report.json, counted
# in the summary and the final line.
expect_status 1 "$SHOTQ" run --devices cpu:1 --tasks 0-4 --retries 0 --halt fail=1 \
  --run-dir d -- sh -c 'exit 3'
has 'shotq: 4 task(s) not run (status "pending" in report.json)'
final "shotq: 0 done (0 of them by an earlier run), 1 failed, 4 not run; makespan X; report d/report.json"
[ "$(json d/report.json 'sorted(t["status"] for t in r["tasks"])')" = \
  "['failed', 'pending', 'pending', 'pending', 'pending']" ] || fail "report.json statuses"
[ "$(json d/report.json 'r["summary"]["pending"], r["summary"]["failed"]')" = "4 1" ] \
  || fail "report.json summary counts"
echo ok
