# A task's environment: OMP_WAIT_POLICY=passive unless the user set it (a
# user's own value wins), beside the SHOTQ_* variables.
. "$(dirname "$0")/lib.sh"
expect_status 0 env -u OMP_WAIT_POLICY "$SHOTQ" run -q --devices cpu:1 --tasks 0 --run-dir a -- \
  sh -c 'echo "$OMP_WAIT_POLICY $SHOTQ_TASK" > env.out'
[ "$(cat env.out)" = "passive 0" ] || fail "default: $(cat env.out)"
expect_status 0 env OMP_WAIT_POLICY=active "$SHOTQ" run -q --devices cpu:1 --tasks 1 --run-dir b -- \
  sh -c 'echo "$OMP_WAIT_POLICY $SHOTQ_TASK" > env.out'
[ "$(cat env.out)" = "active 1" ] || fail "the user's value: $(cat env.out)"
# Plugin workers get it too (the FD engine's OpenMP threads run in them).
expect_status 0 env -u OMP_WAIT_POLICY "$SHOTQ" run -q --devices cpu:1 --tasks 0 --run-dir c \
  --plugin "$PLUGIN" --plugin-config "initdir=$WORK"
[ "$(cat "$WORK"/init.*)" = "device 0 slot 0 OMP_WAIT_POLICY passive" ] \
  || fail "worker: $(cat "$WORK"/init.*)"
echo ok
