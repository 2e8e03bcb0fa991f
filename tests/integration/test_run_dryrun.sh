# --dry-run prints the plan (devices with their speed priors, each task's
# admission, the first commands with placeholders expanded, the simulated
# makespan), exits 0, starts
# nothing and writes nothing in the run directory: a new one is not created,
# an existing one (also with --resume) is unchanged.
. "$(dirname "$0")/lib.sh"
printf "0 mem=100 'a b' c\n1 weight=3 mem=3000 x\n2 y\n" > t.txt
DEVS=sim:big:1.0:4000,small:0.5:1000x2
"$SHOTQ" run --dry-run --devices $DEVS --tasks-file t.txt --run-dir r -- \
  sh -c 'touch ran.$0' {} {args} > plan.txt || fail "--dry-run failed"
[ ! -e r ] || fail "--dry-run created the run directory"
! ls ran.* 2>/dev/null || fail "--dry-run ran a task"
expect_line() { grep -qxF -- "$1" plan.txt || { cat plan.txt; fail "plan lacks the line: $1"; }; }
expect_line "  0 sim  big                  speed 1  memory 4000 MiB"
expect_line "  1 sim  small                speed 0.5  memory 1000 MiB"
expect_line "  task 0: weight 1, memory 100 MiB: 0 1 2 (all)"
expect_line "  task 1: weight 3, memory 3000 MiB: 0"
expect_line "1 of 3 task(s) fit on only some devices"
expect_line "  task 0: sh -c 'touch ran.\$0' 0 'a b' c"
expect_line "  task 2: sh -c 'touch ran.\$0' 2 y"
# The makespan the same policy gives on a virtual clock, as `shotq simulate` says.
"$SHOTQ" run --dry-run --devices sim:a:1x2,b:0.5x2 --tasks 0-99 -- true > plan.txt
expect_line "simulated makespan: 34 (lower bound 33.33), in the time a weight-1 task takes on a speed-1 device, with the speed priors above"
"$SHOTQ" simulate --devices sim:a:1x2,b:0.5x2 --tasks 100 2>&1 | grep -q "^makespan  *34.000000 s" \
  || fail "shotq simulate disagrees with --dry-run"

# An existing run directory is left exactly as it was.
"$SHOTQ" run -q --devices $DEVS --tasks-file t.txt --run-dir r -- sh -c 'touch ran.$0' {} {args}
rm -f ran.*
snap() { (cd r && find . -printf '%p %s %T@ %m\n' | sort && find . -type f -exec md5sum {} + | sort); }
snap > before.txt
"$SHOTQ" run --dry-run --resume --devices $DEVS --tasks-file t.txt --run-dir r -- \
  sh -c 'touch ran.$0' {} {args} > plan2.txt || fail "--dry-run --resume failed"
snap > after.txt
cmp -s before.txt after.txt || { diff before.txt after.txt; fail "--dry-run changed the run directory"; }
! ls ran.* 2>/dev/null || fail "--dry-run --resume ran a task"

# shotq model --dry-run: the plan of the shots, no run directory, no output.
sed 's|^dir = .*|dir = out/shots|' "$(dirname "$0")/../../examples/demo.ini" > demo.ini
"$SHOTQ" model demo.ini --dry-run --devices cpu:2 --run-dir m > mplan.txt || fail "model --dry-run failed"
grep -qxF "  task 7: weight 1, memory 9 MiB: 0 1 (all)" mplan.txt || { cat mplan.txt; fail "model plan"; }
[ ! -e m ] && [ ! -e out ] || fail "model --dry-run wrote the run directory or the output"
echo ok
