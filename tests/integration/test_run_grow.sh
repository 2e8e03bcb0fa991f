# Growing and re-running a run (issue 9 item 3):
# - --resume with a superset of the tasks runs only the new ones, exactly once;
# - a changed argument of a task in the journal, a missing task, a changed
#   command are refused (exit 2, one line naming the task or command, the
#   journal untouched);
# - --retry-failed with a changed command runs exactly the failed tasks once,
#   records an epoch in the journal, and the run ends all done, each task
#   counted once by report.json and shotq status.
. "$(dirname "$0")/lib.sh"
cmd=(sh -c 'echo {} >> ran.txt')
for i in 0 1 2 3 4 5; do echo "$i weight=1 in-$i 'a b'"; done > tasks.txt
"$SHOTQ" run -q --devices sim:x:1x2 --tasks-file tasks.txt --run-dir run -- "${cmd[@]}"
[ "$(sort -n ran.txt | tr '\n' ' ')" = "0 1 2 3 4 5 " ] || fail "first run: $(cat ran.txt)"

cp run/report.json first-report.json
# Superset: 6..9 added; only they run.
cp tasks.txt more.txt
for i in 6 7 8 9; do echo "$i in-$i"; done >> more.txt
: > ran.txt
"$SHOTQ" run -q --devices sim:x:1x2 --tasks-file more.txt --run-dir run --resume -- "${cmd[@]}"
[ "$(sort -n ran.txt | tr '\n' ' ')" = "6 7 8 9 " ] || fail "superset resume ran: $(sort -n ran.txt | tr '\n' ' ')"
[ "$(json run/report.json 'r["summary"]["done"], r["summary"]["done-earlier"]')" = "4 6" ] \
  || fail "report counts: $(json run/report.json 'r["summary"]')"
grep -q '"ev":"epoch".*resume: 4 task(s) added' run/journal || fail "no epoch for the added tasks"
# The report keeps the costs the first run measured for the tasks it did
# (the resume used them as weights), so a later --costs-from sees all ten.
"$PY" - first-report.json run/report.json <<'PYEOF'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
ca = {t["id"]: t["cost"] for t in a["tasks"]}
cb = {t["id"]: t.get("cost") for t in b["tasks"]}
assert sorted(cb) == list(range(10)) and all(c and c > 0 for c in cb.values()), cb
assert all(abs(cb[i] - ca[i]) < 1e-9 for i in range(6)), (ca, cb)
PYEOF
[ "$(grep -c '"ev":"def"' run/journal)" = 10 ] || fail "expected 10 task definitions"
"$SHOTQ" status run --json > st.json
[ "$(json st.json 'r["done"], r["failed"], r["pending"], r["total"]')" = "10 0 0 10" ] \
  || fail "status after the superset resume: $(cat st.json)"
# Without state.json (a crash before it was written) the total comes from the epoch.
mv run/state.json state.saved
"$SHOTQ" status run --json > st.json
[ "$(json st.json 'r["total"]')" = 10 ] || fail "status total without state.json: $(cat st.json)"
mv state.saved run/state.json
# Resuming the grown run again runs nothing.
: > ran.txt
"$SHOTQ" run -q --devices sim:x:1x2 --tasks-file more.txt --run-dir run --resume -- "${cmd[@]}"
[ ! -s ran.txt ] || fail "a complete grown run ran again: $(cat ran.txt)"

cp run/journal journal.before
# A changed argument of task 3 (line 4 of the file) is refused, naming both.
sed 's/^3 weight=1 in-3 .*/3 weight=1 in-3 '"'a  b'"'/' more.txt > changed.txt
expect_status 2 "$SHOTQ" run -q --devices sim:x:1x2 --tasks-file changed.txt --run-dir run --resume -- "${cmd[@]}"
[ "$(wc -l < err)" = 1 ] || fail "expected one line: $(cat err)"
grep -q "changed.txt:4: task 3: arguments 'in-3 .a  b.' differ from 'in-3 .a b.'" err \
  || fail "changed arguments not explained: $(cat err)"
# Weight and memory are scheduling hints, not identity: a changed weight resumes.
sed 's/^3 weight=1 /3 weight=5 /' more.txt > reweighed.txt
"$SHOTQ" run -q --devices sim:x:1x2 --tasks-file reweighed.txt --run-dir run --resume -- "${cmd[@]}"
cp run/journal journal.before
# A subset (task 2 missing) is refused.
grep -v '^2 ' more.txt > subset.txt
expect_status 2 "$SHOTQ" run -q --devices sim:x:1x2 --tasks-file subset.txt --run-dir run --resume -- "${cmd[@]}"
grep -q "task 2 (and 0 more) of the journal is not in the task set" err || fail "subset not explained: $(cat err)"
# A different command is refused by --resume.
expect_status 2 "$SHOTQ" run -q --devices sim:x:1x2 --tasks-file more.txt --run-dir run --resume -- sh -c 'true {}'
grep -q "made for a different command" err || fail "command change not explained: $(cat err)"
# --retry-failed adds no task.
for i in 10; do echo "$i in-$i"; done | cat more.txt - > plus.txt
expect_status 2 "$SHOTQ" run -q --devices sim:x:1x2 --tasks-file plus.txt --run-dir run --retry-failed -- "${cmd[@]}"
grep -q "plus.txt:11: task 10 is not in .*--retry-failed runs the run's own tasks only" err \
  || fail "new task under --retry-failed not explained: $(cat err)"
cmp -s run/journal journal.before || fail "a refused resume changed the journal"

# --retry-failed with a fixed command: ids 0, 3, 6, 9 fail first.
rm -f ran.txt
bad=(sh -c 'echo {} >> ran.txt; [ $(({} % 3)) != 0 ]')
expect_status 1 "$SHOTQ" run -q --retries 0 --devices sim:x:1x2 --tasks 0-9 --run-dir rf -- "${bad[@]}"
[ "$(json rf/report.json 'r["summary"]["failed"]')" = 4 ] || fail "expected 4 failed tasks"
: > ran.txt
"$SHOTQ" run -q --devices sim:x:1x2 --tasks 0-9 --run-dir rf --retry-failed -- sh -c 'echo {} >> ran.txt'
[ "$(sort -n ran.txt | tr '\n' ' ')" = "0 3 6 9 " ] || fail "--retry-failed ran: $(sort -n ran.txt | tr '\n' ' ')"
[ "$(json rf/report.json 'r["summary"]["done"], r["summary"]["done-earlier"], r["summary"]["failed"]')" = "4 6 0" ] \
  || fail "report after --retry-failed: $(json rf/report.json 'r["summary"]')"
[ "$(grep -c '"ev":"epoch".*retry-failed: new command, 0 task(s) added' rf/journal)" = 1 ] \
  || fail "journal records no epoch for the new command"
"$SHOTQ" status rf --json > st.json
[ "$(json st.json 'r["done"], r["failed"], r["pending"]')" = "10 0 0" ] \
  || fail "status after --retry-failed: $(cat st.json)"
# Again: nothing left to run, no new epoch (same command), and --resume now
# takes the new command.
: > ran.txt
"$SHOTQ" run -q --devices sim:x:1x2 --tasks 0-9 --run-dir rf --retry-failed -- sh -c 'echo {} >> ran.txt'
"$SHOTQ" run -q --devices sim:x:1x2 --tasks 0-9 --run-dir rf --resume -- sh -c 'echo {} >> ran.txt'
[ ! -s ran.txt ] || fail "a done task ran again: $(cat ran.txt)"
[ "$(grep -c '"ev":"epoch"' rf/journal)" = 1 ] || fail "an unchanged retry wrote an epoch"
echo ok
