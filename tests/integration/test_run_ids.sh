# Task ids: report.json and the journal are read with cJSON (doubles), so ids
# above 2^53-1 are refused at every input with exit 2 naming file:line; the
# largest id runs end to end exactly; a journal id that is not an exact
# integer id is a corrupt journal, not a silent match.
. "$(dirname "$0")/lib.sh"
one_line() { # one_line EXPECTED: err holds exactly that line
  [ "$(cat err)" = "$1" ] || { cat err; fail "expected the line: $1"; }
}
printf '0 a\n9007199254740993 b\n' > big.txt
expect_status 2 "$SHOTQ" run -q --devices cpu:1 --tasks-file big.txt --run-dir r -- true
one_line "shotq: error: big.txt:2: column 1: expected a task id from 0 to 9007199254740991 (2^53-1), got '9007199254740993'"
expect_status 2 "$SHOTQ" simulate --devices sim:a:1 --tasks-file big.txt
one_line "shotq: error: big.txt:2: column 1: expected a task id from 0 to 9007199254740991 (2^53-1), got '9007199254740993'"
expect_status 2 "$SHOTQ" run -q --devices cpu:1 --tasks 9007199254740990-9007199254740992 --run-dir r -- true
one_line "shotq: error: --tasks '9007199254740990-9007199254740992': position 18: expected the end of the range (a task id from 0 to 9007199254740991 (2^53-1))"
echo '{"tasks":[{"id":9007199254740993,"cost":2}]}' > costs.json
expect_status 2 "$SHOTQ" run -q --devices cpu:1 --tasks 0 --run-dir r --costs-from costs.json -- true
one_line "shotq: error: --costs-from 'costs.json': costs.json: tasks[0]: expected \"id\" to be an integer task id from 0 to 9007199254740991 (2^53-1)"
[ ! -e r ] || fail "a refused id created the run directory"

# The largest id: exact in report.json, and --resume after completion runs
# nothing.
printf '9007199254740991 a\n9007199254740990 b\n' > max.txt
"$SHOTQ" run -q --devices cpu:2 --tasks-file max.txt --run-dir m -- sh -c 'echo {} >> ran.txt' \
  || fail "the largest id did not run"
[ "$(sort ran.txt)" = "$(printf '9007199254740990\n9007199254740991')" ] || { cat ran.txt; fail "wrong ids ran"; }
[ "$(json m/report.json 'sorted(t["id"] for t in r["tasks"])')" = "[9007199254740990, 9007199254740991]" ] \
  || fail "report.json ids are not exact"
[ "$(json m/report.json 'sorted(t["status"] for t in r["tasks"])')" = "['done', 'done']" ] \
  || fail "report.json statuses"
"$SHOTQ" run -q --devices cpu:2 --tasks-file max.txt --run-dir m --resume -- sh -c 'echo {} >> ran.txt' \
  || fail "resume of a finished run failed"
[ "$(wc -l < ran.txt)" = 2 ] || { cat ran.txt; fail "--resume ran a done task again"; }

# A journal whose done event names a non-integer or a too-large id is corrupt.
"$SHOTQ" run -q --devices cpu:1 --tasks 0-2 --run-dir j -- true
cp j/journal journal.good
for bad in 1.5 9007199254740993 '"1"' -1; do
  cp journal.good j/journal
  echo "{\"ev\":\"done\",\"task\":$bad,\"attempt\":1,\"dev\":0,\"t\":0.5,\"exit\":0}" >> j/journal
  n=$(wc -l < j/journal)
  expect_status 2 "$SHOTQ" run -q --devices cpu:1 --tasks 0-2 --run-dir j --resume -- true
  one_line "shotq: error: j/journal:$n: expected \"task\" to be an integer task id from 0 to 9007199254740991 (2^53-1) (corrupt journal)"
done
# The exact largest id is fine in a journal (resume of its own run above).
echo ok
