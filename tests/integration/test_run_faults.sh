# Faults: a segfaulting task, a task hanging past --timeout, a task failing on
# one device only (retried elsewhere), a plugin crashing its worker, memory
# admission, no fd leaks into tasks.
. "$(dirname "$0")/lib.sh"

# 1. Task 3 segfaults on every attempt; the others succeed; exit 1 with a summary.
expect_status 1 "$SHOTQ" run -q --devices cpu:2 --tasks 0-5 --run-dir seg -- \
  sh -c 'if [ {} = 3 ]; then kill -SEGV $$; fi; echo fine'
grep -q "task 3: killed by signal 11 after 3 attempt" err || { cat err; fail "no summary for task 3"; }
grep -q "task 3: .*logs: none (no output)" err || fail "summary names logs that do not exist"
[ "$(json seg/report.json '[t["status"] for t in r["tasks"]].count("done")')" = 5 ]
[ "$(json seg/report.json '[t for t in r["tasks"] if t["id"]==3][0]["exit_code"]')" = 139 ]
[ -s seg/logs/task-0.1.out ] && [ "$(cat seg/logs/task-0.1.out)" = fine ] || fail "stdout not captured"

# 2. A task hangs past --timeout: killed (with its children), retried, reported.
start=$(date +%s.%N)
expect_status 1 "$SHOTQ" run -q --devices cpu:2 --tasks 0-3 --timeout 0.5 --retries 1 \
  --run-dir hang -- sh -c "if [ {} = 2 ]; then sleep 30$$; fi"
took=$("$PY" -c "import sys,time; print(time.time()-float(sys.argv[1]))" "$start")
"$PY" -c "import sys; sys.exit(0 if float(sys.argv[1]) < 10 else 1)" "$took" || fail "timeout not enforced ($took s)"
[ "$(json hang/report.json '[t for t in r["tasks"] if t["id"]==2][0]["exit_code"]')" = 124 ]
[ "$(json hang/report.json '[t for t in r["tasks"] if t["id"]==2][0]["attempts"]')" = 2 ]
grep -q "timeout" err || fail "timeout not named in the summary"
sleep 0.5
! pgrep -f "^sleep 30$$\$" >/dev/null || fail "the hung task's process survived"

# 3. Fails on device 0 only: retried on another device and succeeds.
"$SHOTQ" run -q --devices sim:a:1x3 --tasks 0-8 --run-dir dev0 -- sh -c '[ "$SHOTQ_DEVICE" != 0 ]'
[ "$(json dev0/report.json 'all(t["status"]=="done" and t["device"]!=0 for t in r["tasks"])')" = True ]
[ "$(json dev0/report.json 'len(r["failed_attempts"])>=1 and all(f["device"]==0 for f in r["failed_attempts"])')" = True ]
# ... and after 3 consecutive failures device 0 is quarantined.
[ "$(json dev0/report.json 'r["devices"][0]["quarantined"] or r["devices"][0]["tasks_done"]==0')" = True ]

# 4. A plugin whose run() crashes the worker: coordinator survives, the worker is
#    restarted, every other task is done; the crashing task fails after retries.
mkdir inits
printf '0\n1\n2 crash\n3\n4\n5\n6\n7\n' > tasks.txt
expect_status 1 "$SHOTQ" run -q --devices cpu:2 --tasks-file tasks.txt --run-dir crash \
  --plugin "$PLUGIN" --plugin-config "initdir=$WORK/inits"
[ "$(json crash/report.json '[t["status"] for t in r["tasks"]].count("done")')" = 7 ]
[ "$(json crash/report.json '[t for t in r["tasks"] if t["id"]==2][0]["exit_code"]')" = 139 ]
n=$(ls inits | wc -l)
[ "$n" -ge 4 ] || fail "expected the crashed workers to be restarted (init ran $n times)"
grep -q "worker killed by signal 11" err || fail "crash not reported"

# 5. Memory admission: with --task-mem above one device's memory, it gets nothing.
"$SHOTQ" run -q --devices sim:big:1:8192,small:1:2048 --task-mem 4096 --tasks 0-5 \
  --run-dir mem -- true
[ "$(json mem/report.json 'r["devices"][1]["tasks_done"]')" = 0 ]
[ "$(json mem/report.json 'r["devices"][0]["tasks_done"]')" = 6 ]
# ... and --slots packs as many as memory allows (2 x 4096 in 8192, never 3).
"$SHOTQ" run -q --devices sim:big:1:8192 --task-mem 4096 --slots 3 --tasks 0-8 \
  --run-dir pack -- sleep 0.2
"$PY" - pack/report.json <<'PYEOF'
import json, sys
t = json.load(open(sys.argv[1]))["tasks"]
ev = sorted([(x["start_s"], 1) for x in t] + [(x["end_s"], -1) for x in t], key=lambda e: (e[0], e[1]))
cur = peak = 0
for _, d in ev:
    cur += d; peak = max(peak, cur)
assert peak == 2, f"peak concurrency {peak}, expected 2"
PYEOF
# A task that fits no device is refused before anything starts.
expect_status 2 "$SHOTQ" run -q --devices sim:small:1:2048 --task-mem 4096 --tasks 0-1 \
  --run-dir nofit -- true
[ ! -e nofit ] || fail "run directory created for a refused run"
grep -q "4096 MiB" err || fail "message lacks the numbers"

# 6. No fd leaks into tasks: only 0, 1, 2 (and ls's own directory fd).
"$SHOTQ" run -q --devices cpu:2 --tasks 0-3 --run-dir fds -- ls /proc/self/fd
for f in fds/logs/task-*.1.out; do
  extra=$(grep -vxE '[0-3]' "$f" || true)
  [ -z "$extra" ] || fail "fds leaked into a task: $(tr '\n' ' ' < "$f")"
done
echo ok
