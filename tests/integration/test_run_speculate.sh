# Speculation (--speculate) in a live run: a device that stalls (it runs at a
# tenth of its speed or less) holds a task while the other devices run out of
# work; a backup copy of it starts on an idle device, the first copy to
# succeed wins, the other is killed and recorded as cancelled. Every task's
# output is produced exactly once, the journal records both attempts and
# the winner, and no process of the losing copy survives.
. "$(dirname "$0")/lib.sh"

# Device 0 stalls: its tasks take SLOW s, elsewhere 1 s. An output is
# written per attempt and renamed into place (as the docs ask of commands
# run with --speculate), then the task's id appended to done.list.
mkdir res
cat >task.sh <<'SH'
#!/bin/sh
if [ "$SHOTQ_DEVICE" = 0 ]; then sleep "$SLOW"; else sleep 1; fi
echo "task $SHOTQ_TASK attempt $SHOTQ_ATTEMPT" >"res/t$SHOTQ_TASK.$SHOTQ_ATTEMPT"
mv "res/t$SHOTQ_TASK.$SHOTQ_ATTEMPT" "res/t$SHOTQ_TASK"
echo "$SHOTQ_TASK" >>done.list
SH
chmod +x task.sh

SLOW=40.5 expect_status 0 "$SHOTQ" run -q --devices sim:f:1x4 --tasks 0-7 --speculate \
  --run-dir a -- ./task.sh
[ "$(sort -n done.list | tr '\n' ' ')" = "0 1 2 3 4 5 6 7 " ] \
  || fail "each task done exactly once, got: $(sort -n done.list | tr '\n' ' ')"
[ "$(ls res | sort | tr '\n' ' ')" = "t0 t1 t2 t3 t4 t5 t6 t7 " ] || fail "outputs: $(ls res)"
if pgrep -f "sleep 40.5" >/dev/null; then fail "the cancelled copy's sleep survived"; fi

# The report: one task first sent to device 0 finished elsewhere on its
# second attempt; its first attempt is a cancelled copy on device 0 that was
# killed well before it could have finished.
"$PY" - a/report.json <<'PY' || fail "report.json"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["summary"]["done"] == 8 and r["summary"]["failed"] == 0, r["summary"]
c = r["cancelled_attempts"]
assert len(c) == 1, c
c = c[0]
assert c["device"] == 0 and c["attempt"] == 1 and c["why"].startswith("cancelled"), c
assert c["end_s"] - c["start_s"] < 30, c
t = [t for t in r["tasks"] if t["id"] == c["id"]][0]
assert t["status"] == "done" and t["device"] != 0 and t["attempts"] == 2, t
assert r["failed_attempts"] == [], r["failed_attempts"]
assert all(t["attempts"] == 1 for t in r["tasks"] if t["id"] != c["id"])
PY

# The journal: that task has start 1 (device 0), start 2 (elsewhere), done 2,
# cancel 1; every task exactly one done.
"$PY" - a/journal a/report.json <<'PY' || fail "journal"
import json, sys, collections
ev = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()[1:]]
ev = [e for e in ev if e["ev"] in ("start", "done", "fail", "retry", "cancel")]
done = collections.Counter(e["task"] for e in ev if e["ev"] == "done")
assert sorted(done) == list(range(8)) and set(done.values()) == {1}, done
k = json.load(open(sys.argv[2]))["cancelled_attempts"][0]["id"]
seq = [(e["ev"], e["attempt"], e["dev"] == 0) for e in ev if e["task"] == k]
assert seq == [("start", 1, True), ("start", 2, False), ("done", 2, False),
               ("cancel", 1, True)], seq
PY

# shotq status counts the run from the journal: 8 done, none running.
"$SHOTQ" status a --json >st.json
[ "$(json st.json 'r["done"], r["running"], r["failed"]')" = "8 0 0" ] \
  || { cat st.json; fail "status counts"; }

# Without --speculate (the default for commands) no copy is made: the task on
# device 0 finishes there.
SLOW=4 expect_status 0 "$SHOTQ" run -q --devices sim:f:1x4 --tasks 0-7 --run-dir b -- ./task.sh
[ "$(json b/report.json 'len(r["cancelled_attempts"]), max(t["attempts"] for t in r["tasks"])')" = "0 1" ] \
  || fail "a copy without --speculate"
[ "$(json b/report.json 'sorted(t["device"] for t in r["tasks"])[0]')" = 0 ] || fail "device 0 unused"

# --no-speculate is accepted and wins when given last.
: >done.list
SLOW=4 expect_status 0 "$SHOTQ" run -q --devices sim:f:1x4 --tasks 0-7 --speculate --no-speculate \
  --run-dir c -- ./task.sh
[ "$(json c/report.json 'len(r["cancelled_attempts"])')" = 0 ] || fail "--no-speculate"

# Plugin mode (persistent workers): the stalled copy's worker is killed and
# started again; every task is done once, one copy cancelled.
mkdir init
expect_status 0 "$SHOTQ" run -q --devices sim:f:1x4 --tasks 0-7 --speculate --run-dir p \
  --plugin "$PLUGIN" --plugin-config "sleep=0.5 stall=0:60 initdir=$WORK/init"
[ "$(json p/report.json 'r["summary"]["done"], len(r["cancelled_attempts"]), r["cancelled_attempts"][0]["device"]')" = "8 1 0" ] \
  || fail "plugin mode: $(cat p/report.json)"
[ "$(json p/report.json 'len(r["failed_attempts"])')" = 0 ] || fail "plugin mode: a failed attempt"
echo ok
