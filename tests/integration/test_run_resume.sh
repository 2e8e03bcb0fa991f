# kill -9 of the coordinator mid-run, then --resume: every task done, only
# tasks running at the kill ran twice, no task process survived the kill.
. "$(dirname "$0")/lib.sh"
marker="shotq-resume-$$"
cmd=(sh -c 'echo {} >> ran.txt; exec sleep 0.3' "$marker")
"$SHOTQ" run -q --devices cpu:3 --tasks 0-29 --run-dir run -- "${cmd[@]}" &
pid=$!
sleep 1.2
kill -9 $pid
wait $pid 2>/dev/null || true
sleep 0.5
! pgrep -f "$marker" >/dev/null || { pgrep -af "$marker"; fail "task processes survived the coordinator"; }
before=$(sort -n ran.txt | uniq | wc -l)
[ "$before" -gt 0 ] && [ "$before" -lt 30 ] || fail "kill came at a bad time ($before tasks ran)"
# Tasks started but not recorded done at the kill:
started_not_done run/journal > running_at_kill.txt
# A different command is refused, and the run directory is left as it was.
cp run/journal journal.before
expect_status 2 "$SHOTQ" run -q --devices cpu:3 --tasks 0-29 --run-dir run --resume -- true
grep -q "made for a different command" err || fail "mismatch not explained"
cmp -s run/journal journal.before || fail "refused resume changed the journal"
# Without --resume the directory is refused too.
expect_status 2 "$SHOTQ" run -q --devices cpu:3 --tasks 0-29 --run-dir run -- "${cmd[@]}"
cmp -s run/journal journal.before || fail "refused run changed the journal"

"$SHOTQ" run -q --devices cpu:3 --tasks 0-29 --run-dir run --resume -- "${cmd[@]}"
[ "$(sort -n ran.txt | uniq | wc -l)" = 30 ] || fail "not every task ran"
sort -n ran.txt | uniq -d > twice.txt
extra=$(comm -23 <(sort twice.txt) <(sort running_at_kill.txt))
[ -z "$extra" ] || fail "tasks ran twice that were not running at the kill: $extra"
[ "$(json run/report.json 'r["summary"]["done"]+r["summary"]["done-earlier"]')" = 30 ]
echo "ran twice: $(tr '\n' ' ' < twice.txt)(running at kill: $(tr '\n' ' ' < running_at_kill.txt))"
echo ok
