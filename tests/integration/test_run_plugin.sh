# Plugin mode: one persistent worker per slot, init once per worker, every
# task exactly once; command placeholders and the task environment.
. "$(dirname "$0")/lib.sh"
mkdir inits
"$SHOTQ" run -q --devices cpu:2 --slots 2 --tasks 0-999 --run-dir p --plugin "$PLUGIN" \
  --plugin-config "initdir=$WORK/inits"
[ "$(ls inits | wc -l)" = 4 ] || fail "expected 4 workers to init once each, got $(ls inits | wc -l)"
[ "$(json p/report.json 'r["summary"]["done"]')" = 1000 ]
[ "$(json p/report.json 'len(set(t["id"] for t in r["tasks"] if t["attempts"]==1))')" = 1000 ]
# Plugin output is captured per task.
"$SHOTQ" run -q --devices cpu:1 --tasks 5 --run-dir p2 --plugin "$PLUGIN" --plugin-config sleep=0.01
grep -q "task 5 slept" p2/logs/task-5.1.out || fail "plugin stdout not captured"
# Placeholders and environment in command mode.
printf '7 weight=2 alpha beta\n' > t.txt
"$SHOTQ" run -q --devices sim:x:0.5 --tasks-file t.txt --run-dir c -- \
  sh -c 'echo "$0 $1 $2 $3 $SHOTQ_TASK $SHOTQ_DEVICE $SHOTQ_DEVICE_NAME $SHOTQ_DEVICE_SPEED $SHOTQ_SLOT $SHOTQ_ATTEMPT [$CUDA_VISIBLE_DEVICES] $SHOTQ_RUN_DIR"' \
  '{}' 'd{device}s{slot}a{attempt}' '{args}'
[ "$(cat c/logs/task-7.1.out)" = "7 d0s0a1 alpha beta 7 0 x 0.5 0 1 [] c" ] || fail "got: $(cat c/logs/task-7.1.out)"
# A plugin whose init fails: the device is dropped, the run fails cleanly.
expect_status 1 "$SHOTQ" run -q --devices cpu:1 --tasks 0-2 --run-dir initfail --plugin "$PLUGIN" \
  --plugin-config "initdir=$WORK/no/such/dir"
grep -q "init returned 2 on device 0" err || { cat err; fail "init failure not reported"; }
grep -q "no device can run the remaining tasks" err || fail "no final reason"
# Plugins that cannot be loaded are bad input.
expect_status 2 "$SHOTQ" run -q --devices cpu:1 --tasks 0 --run-dir bad --plugin ./nope.so
grep -q "cannot load" err
expect_status 2 "$SHOTQ" run -q --devices cpu:1 --tasks 0 --run-dir bad --plugin /lib/x86_64-linux-gnu/libm.so.6
grep -q "shotq_plugin_entry" err
[ ! -e bad ] || fail "bad input created the run directory"
echo ok
