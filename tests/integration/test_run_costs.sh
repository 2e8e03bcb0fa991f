# Task costs survive a run that left no report: each "done" in the journal
# carries the task's cost, and --costs-from a run directory reads the
# journal when report.json is missing (a coordinator killed with -9 writes
# none). The long task (3) then leads the LPT order of the next run.
. "$(dirname "$0")/lib.sh"
cat >task.sh <<'SH'
#!/bin/sh
if [ "$SHOTQ_TASK" = 3 ]; then sleep 1; else sleep 0.1; fi
SH
chmod +x task.sh
expect_status 0 "$SHOTQ" run -q --devices sim:a:1 --tasks 0-5 --run-dir a -- ./task.sh
"$PY" - a/journal <<'PY' || fail "journal costs"
import json, sys
done = [json.loads(l) for l in open(sys.argv[1]) if '"ev":"done"' in l]
assert len(done) == 6 and all(e["cost"] > 0 for e in done), done
c = {e["task"]: e["cost"] for e in done}
assert c[3] > 5 * max(v for k, v in c.items() if k != 3), c
PY
rm a/report.json
# The next run starts the task the journal measured longest first.
expect_status 0 "$SHOTQ" run -q --devices sim:a:1 --tasks 0-5 --run-dir b --costs-from a -- ./task.sh
[ "$("$PY" -c "
import json; r = json.load(open('b/report.json'))
print(min(r['tasks'], key=lambda t: t['start_s'])['id'])")" = 3 ] || fail "task 3 not first with the journal's costs"
# Without history the run fails before any work, naming what it expected.
rm -rf a/journal
expect_status 2 "$SHOTQ" run -q --devices sim:a:1 --tasks 0-5 --run-dir c --costs-from a -- ./task.sh
grep -q "expected a shotq run directory (report.json or journal) with task costs" err || { cat err; fail "message"; }
echo ok
