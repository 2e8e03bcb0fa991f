# A burst of SIGINTs (issue 7 item 9): shotq keeps its handlers until the
# report is written, so it still ends with exit 130, report.json and its final
# line; the counts of the final line agree with report.json.
. "$(dirname "$0")/lib.sh"
"$SHOTQ" run --devices cpu:2 --tasks 0-9 --run-dir b -- sleep 5 2>err >/dev/null &
pid=$!
sleep 1
for i in $(seq 1 40); do kill -INT $pid 2>/dev/null || break; sleep 0.005; done
set +e
wait $pid
st=$?
set -e
[ "$st" = 130 ] || { cat err; fail "expected exit 130, got $st"; }
[ -s b/report.json ] || { cat err; fail "no report.json after a burst of SIGINTs"; }
grep -q "^shotq: 0 done (0 of them by an earlier run), .* not run;" err || { cat err; fail "no final line"; }
notrun=$(json b/report.json 'r["summary"]["pending"] + r["summary"]["running"]')
failed=$(json b/report.json 'r["summary"]["failed"]')
grep -q ", $failed failed, $notrun not run;" err || { cat err; fail "final line disagrees with report.json"; }
echo ok
