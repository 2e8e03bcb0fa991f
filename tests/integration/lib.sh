# Shared helpers of the integration tests (sourced). $SHOTQ is the binary,
# $SHOTQ_BUILD the build directory, set by CTest.
set -euo pipefail
: "${SHOTQ:?run through ctest (SHOTQ unset)}"
PY=/usr/bin/python3
WORK=$(mktemp -d "${TMPDIR:-/tmp}/shotq-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
PLUGIN="$SHOTQ_BUILD/example_plugin.so"

fail() { echo "FAIL: $*" >&2; exit 1; }

# json FILE EXPR: evaluates a Python expression on the parsed JSON (as r).
json() { "$PY" -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$1"; }

# expect_status N CMD...: runs CMD, checks its exit status; stderr in $WORK/err.
expect_status() {
  local want=$1; shift
  set +e; "$@" 2>"$WORK/err" >"$WORK/out"; local got=$?; set -e
  [ "$got" = "$want" ] || { cat "$WORK/err" >&2; fail "expected exit $want, got $got: $*"; }
}

# started_not_done JOURNAL: ids of the tasks the journal records started but
# not done (running when the run was killed), one a line.
started_not_done() {
  "$PY" - "$1" <<'PYEOF'
import json, sys
started, done = set(), set()
for line in open(sys.argv[1]):
    try: e = json.loads(line)
    except ValueError: continue
    if e.get("ev") == "start": started.add(e["task"])
    if e.get("ev") == "done": done.add(e["task"])
print("\n".join(str(t) for t in sorted(started - done)))
PYEOF
}
