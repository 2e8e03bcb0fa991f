# Every bad input: exit 2, one line naming the input, the position and what was
# expected; nothing starts; an existing run directory is not touched.
. "$(dirname "$0")/lib.sh"
check() { # check PATTERN ARGS...
  local pat=$1; shift
  expect_status 2 "$SHOTQ" "$@"
  [ "$(wc -l < err)" = 1 ] || { cat err; fail "expected one line for: $*"; }
  grep -q -- "$pat" err || { cat err; fail "message lacks '$pat' for: $*"; }
}
check "position 3: expected" run --devices cpu:1 --tasks '0-x' --run-dir r -- true
check "expected an end not below the start" run --devices cpu:1 --tasks '9-1' --run-dir r -- true
check "unknown option --frobnicate" run --frobnicate --tasks 0 -- true
check "option --slots 'zero': expected an integer" run --slots zero --tasks 0 -- true
check "option --policy 'best': expected dynamic, static or memfree" run --policy best --tasks 0 -- true
check "option --timeout '-1': expected a number" run --timeout -1 --tasks 0 -- true
check "command 'no-such-program-x': not found" run --devices cpu:1 --tasks 0 --run-dir r -- no-such-program-x
check "nothing to run" run --devices cpu:1 --tasks 0 --run-dir r
check "sim:a:x" run --devices 'sim:a:x' --tasks 0 --run-dir r -- true
printf '0\n1 weight=abc\n' > bad.txt
check "bad.txt:2: column 3: expected weight=W" run --devices cpu:1 --tasks-file bad.txt --run-dir r -- true
printf '0\n0\n' > dup.txt
check "task id 0 appears twice" run --devices cpu:1 --tasks-file dup.txt --run-dir r -- true
check "--tasks-file 'missing.txt': cannot open" run --devices cpu:1 --tasks-file missing.txt --run-dir r -- true
"$PY" -c "print('3 ' + 'x' * 70000)" > long.txt
check "task 3: command and arguments too long" run --devices cpu:1 --tasks-file long.txt --run-dir r -- echo
check "expected exactly one of --tasks" simulate --devices sim:a:1
check "expected simulated devices" simulate --devices cpu:2 --tasks 3
check "--costs-from 'nowhere.json': cannot read" run --devices cpu:1 --tasks 0 --run-dir r --costs-from nowhere.json -- true
echo '{"tasks":[{"id":0}]}' > nocost.json
check "expected a shotq report.json with task costs" run --devices cpu:1 --tasks 0 --run-dir r --costs-from nocost.json -- true
check "expected lognormal:SIGMA" simulate --devices sim:a:1 --tasks 3 --cost-model normal:1
check "expected DEV@SECONDS:FACTOR" simulate --devices sim:a:1 --tasks 3 --slowdown 0:1
check "option --slowdown: device 5" simulate --devices sim:a:1 --tasks 3 --slowdown 5@1:0.5
echo 1.5 > one.txt
check "1 costs, expected one per task (3)" simulate --devices sim:a:1 --tasks 3 --costs-file one.txt
check "nocost.json' line 1: expected one positive number" simulate --devices sim:a:1 --tasks 3 --costs-file nocost.json
[ ! -e r ] || fail "bad input created the run directory"
# An existing run directory stays as it was.
"$SHOTQ" run -q --devices cpu:1 --tasks 0-2 --run-dir keep -- true
cp -r keep keep.before
check "pass --resume" run -q --devices cpu:1 --tasks 0-2 --run-dir keep -- true
check "position 1: expected" run -q --devices cpu:1 --tasks x --run-dir keep --resume -- true
diff -r keep keep.before >/dev/null || fail "the run directory changed"
echo ok
