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
exact() { # exact LINE ARGS...: exit 2 and err is exactly LINE
  local line=$1; shift
  expect_status 2 "$SHOTQ" "$@"
  [ "$(cat err)" = "$line" ] || { cat err; fail "expected exactly: $line"; }
}
printf '0\n# c\n\n0\n' > dup.txt
exact "shotq: error: dup.txt:4: task id 0 appears twice (first on line 1; expected unique ids)" \
  run --devices cpu:1 --tasks-file dup.txt --run-dir r -- true
exact "shotq: error: --tasks '0-3,2': position 5: task id 2 appears twice (first at position 1; expected unique ids)" \
  run --devices cpu:1 --tasks 0-3,2 --run-dir r -- true
# Control characters from the input are escaped in the message.
printf '1 weight=\033[2J\n' > ctl.txt
exact "shotq: error: ctl.txt:1: column 3: expected weight=W with W a positive number, got 'weight=\\x1b[2J'" \
  run --devices cpu:1 --tasks-file ctl.txt --run-dir r -- true
exact "shotq: error: --devices 'sim:a\\x1b:x': position 6: expected ':' and a speed after the device name, got '\\x1b'" \
  run --devices $'sim:a\x1b:x' --tasks 0 --run-dir r -- true
exact "shotq: error: option --slots '1\\n2': expected an integer from 1 to 1024" \
  run --slots $'1\n2' --tasks 0 -- true
exact "shotq: error: unknown option --fr\\x07ob (expected an option of shotq run; see --help)" \
  run $'--fr\x07ob' --tasks 0 -- true
exact "shotq: error: command 'no\\x1bprog': not found or not executable (expected a program in PATH or a path)" \
  run --devices cpu:1 --tasks 0 --run-dir r -- $'no\x1bprog'
printf '[mo\033del]\n' > ctl.ini
exact "shotq model: $WORK/ctl.ini:1: expected a section [model], [survey], [modeling] or [output], got '[mo\\x1bdel]'" \
  model ctl.ini --check
printf '[model]\nn\033x = 3\n' > key.ini
exact "shotq model: $WORK/key.ini:2: key 'n\\x1bx' in [model]: expected one of nx, ny, nz, dx, dy, dz, vp, rho, epsilon, delta, theta, phi, order" \
  model key.ini --check
# Ids above 2^53-1 (see also test_run_ids.sh).
exact "shotq: error: --tasks '9007199254740992': position 1: expected a task id from 0 to 9007199254740991 (2^53-1)" \
  run --devices cpu:1 --tasks 9007199254740992 --run-dir r -- true
# Out of memory while reading the tasks says so (not an empty message);
# an address-space limit makes the allocation fail. ASan builds need the
# address space: then this case is left out.
if ! ldd "$SHOTQ" 2>/dev/null | grep -q libasan; then
  set +e
  (ulimit -v 400000; exec "$SHOTQ" run --devices cpu:1 --tasks 0-100000000 --run-dir r -- true) 2>err
  got=$?
  set -e
  [ "$got" = 2 ] || { cat err; fail "out of memory: expected exit 2, got $got"; }
  grep -qE "^shotq: error: --tasks '0-100000000': out of memory \([0-9]+ tasks so far\)$" err \
    || { cat err; fail "out of memory: message"; }
  [ "$(wc -l < err)" = 1 ] || { cat err; fail "out of memory: one line"; }
fi
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
