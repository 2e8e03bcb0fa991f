# shotq status: on a live run started in the background (counts equal the
# journal's, the state file's running tasks are the journal's started-not-done
# ones, --watch redraws), after kill -9 of the coordinator (it says the
# coordinator is gone, same counts), on the finished run after --resume (the
# failed task with its last stderr line and log), --json fields present, and a
# directory that is no run directory exits 2 with one line.
. "$(dirname "$0")/lib.sh"
# Tasks 0 and 1 succeed, task 2 fails at once, the others wait for ./go.
# (Tasks 0 and 1 take 0.1 s so that workers prefetch nothing: the journal's
# "start" counts a task sent to a worker, queued there or running.)
TASK='if [ {} -lt 2 ]; then sleep 0.1; exit 0; fi; if [ {} = 2 ]; then echo "first line" >&2; echo "boom {}" >&2; exit 3; fi; while [ ! -e go ]; do sleep 0.05; done'

# counts RUN_DIR: "done failed running" from the journal: done when a done
# event names the task, else by its last event (start: running, fail: failed).
counts() {
  "$PY" - "$1/journal" ${2:+"$2"} <<'PYEOF'
import json, sys
last, done = {}, set()
for line in list(open(sys.argv[1]))[1:]:
    e = json.loads(line)
    if "task" not in e: continue
    last[e["task"]] = e["ev"]
    if e["ev"] == "done": done.add(e["task"])
rest = [v for t, v in last.items() if t not in done]
if len(sys.argv) > 2: # the running ids
    print(sorted(t for t, v in last.items() if v == "start" and t not in done))
else:
    print(len(done), rest.count("fail"), rest.count("start"))
PYEOF
}
# status_counts FILE: the same three numbers from a `status --json` output.
status_counts() { json "$1" '"%d %d %d" % (r["done"], r["failed"], r["running"])'; }

"$SHOTQ" run -q --devices cpu:2 --tasks 0-9 --retries 0 --run-dir r -- sh -c "$TASK" &
pid=$! wpid=
# On any failure: no run or watcher outlives the test.
trap 'kill -9 $pid $wpid 2>/dev/null || true; rm -rf "$WORK"' EXIT
# Wait (bounded) for the stable point: 2 done, 1 failed, 2 running, and the
# state file showing those 2.
for _ in $(seq 600); do
  if [ -s r/journal ] && [ "$(counts r)" = "2 1 2" ] && [ -e r/state.json ] &&
     [ "$(json r/state.json 'sorted(t for d in r["devices"] for t in d["running"])')" = \
       "$(counts r ids)" ]; then
    break
  fi
  sleep 0.05
done
[ "$(counts r)" = "2 1 2" ] || { kill -9 $pid; fail "the run never reached 2 done, 1 failed, 2 running"; }

"$SHOTQ" status r --json > live.json || fail "status --json on a live run"
[ "$(status_counts live.json)" = "$(counts r)" ] || { cat live.json; fail "live counts differ from the journal"; }
[ "$(json live.json 'r["coordinator"], r["total"], r["pending"], r["pid"]')" = "running 10 5 $pid" ] \
  || { cat live.json; fail "live coordinator/total/pending/pid"; }
for k in run_dir what coordinator pid host now total done failed running pending state failed_tasks events; do
  [ "$(json live.json "'$k' in r")" = True ] || fail "--json lacks the field $k"
done
for k in pid host started updated elapsed_s eta_s total finished devices; do
  [ "$(json live.json "'$k' in r['state']")" = True ] || fail "--json state lacks the field $k"
done
for k in index name state speed busy_s utilisation probe_at slots done failed nrunning queued running; do
  [ "$(json live.json "'$k' in r['state']['devices'][0]")" = True ] || fail "--json device lacks $k"
done
[ "$(json live.json '[(t["task"], t["last_line"], t["stderr"]) for t in r["failed_tasks"]]')" = \
  "[(2, 'boom 2', 'r/logs/task-2.1.err')]" ] || { cat live.json; fail "failed task with its last stderr line"; }
"$SHOTQ" status r > live.txt || fail "status on a live run"
grep -q '^tasks: 2 done, 1 failed, 2 running, 5 pending (of 10)$' live.txt || { cat live.txt; fail "live text counts"; }
grep -q "^coordinator: running (pid $pid on " live.txt || { cat live.txt; fail "live coordinator line"; }
grep -q '^  task 2 (attempt 1): boom 2$' live.txt || { cat live.txt; fail "failed task line"; }

# --watch redraws (each redraw one JSON object a line) until the run ends.
"$SHOTQ" status r --json --watch 0.1 > watch.json &
wpid=$!
for _ in $(seq 600); do [ "$(wc -l < watch.json)" -ge 3 ] && break; sleep 0.05; done
[ "$(wc -l < watch.json)" -ge 3 ] || { kill $wpid; fail "--watch did not redraw"; }

# kill -9 of the coordinator: status says it is gone, counts unchanged, and
# --watch ends by itself.
kill -9 $pid
set +e; wait $pid; set -e
set +e; wait $wpid; wst=$?; set -e
[ "$wst" = 0 ] || fail "--watch exited $wst after the coordinator died"
[ "$(tail -n 1 watch.json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["coordinator"])')" = gone ] \
  || fail "--watch's last redraw does not say gone"
"$SHOTQ" status r --json > dead.json || fail "status after kill -9"
[ "$(status_counts dead.json)" = "$(counts r)" ] || { cat dead.json; fail "counts after kill -9 differ from the journal"; }
[ "$(json dead.json 'r["coordinator"], r["pid"]')" = "gone $pid" ] || { cat dead.json; fail "not gone after kill -9"; }
"$SHOTQ" status r > dead.txt
grep -q "^coordinator: gone (pid $pid on .* is no longer running" dead.txt || { cat dead.txt; fail "gone line"; }
grep -q '^tasks: 2 done, 1 failed, 2 interrupted, 5 pending (of 10)$' dead.txt || { cat dead.txt; fail "text counts after kill -9"; }

# Finish it with --resume: task 2 fails again, everything else is done.
touch go
set +e; "$SHOTQ" run -q --devices cpu:2 --tasks 0-9 --retries 0 --run-dir r --resume -- sh -c "$TASK"; st=$?; set -e
[ "$st" = 1 ] || fail "the resumed run exited $st (expected 1: task 2 fails)"
"$SHOTQ" status r --json > end.json
[ "$(status_counts end.json)" = "9 1 0" ] && [ "$(counts r)" = "9 1 0" ] || { cat end.json; fail "final counts"; }
[ "$(json end.json 'r["coordinator"], r["pending"], r["state"]["finished"]')" = "finished 0 True" ] \
  || { cat end.json; fail "finished run"; }

# Not a run directory: exit 2, one line.
mkdir plain
for d in plain missing; do
  expect_status 2 "$SHOTQ" status $d
  [ "$(cat err)" = "shotq status: '$d' is not a run directory (expected a directory with a journal written by shotq run)" ] \
    || { cat err; fail "message for $d"; }
done
expect_status 2 "$SHOTQ" status r --watch=x
[ "$(cat err)" = "shotq status: --watch 'x': expected seconds from 0.1 to 3600" ] || { cat err; fail "--watch x"; }
echo ok
