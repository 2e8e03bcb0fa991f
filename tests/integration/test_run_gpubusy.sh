# Shared GPUs are safe by default (issue 9 item 4), with the fake NVML library
# scripting the processes on two GPUs (a GTX 1080 Ti and a slower 780 Ti):
# a GPU that a foreign process fills to 95 % gets no task without --task-mem,
# gets tasks again once that process is gone, and each task's peak GPU memory
# (its own process, found below its worker) reaches the journal and report.json.
. "$(dirname "$0")/lib.sh"
cc=${CC:-cc}
command -v "$cc" >/dev/null 2>&1 || { echo "no C compiler: skipped"; exit 77; }
"$cc" -shared -fPIC -o "$WORK/libfake-nvml.so" "$SHOTQ_SRC/tests/data/nvsmi/fake-nvml.c"
export SHOTQ_NVML_LIB=$WORK/libfake-nvml.so FAKE_NVML_PROCS=$WORK/procs SHOTQ_REFRESH_S=0.05
unset CUDA_VISIBLE_DEVICES SHOTQ_DEVICES
mkdir procs
# A task registers itself as a 700 MiB GPU process on its device, waits until
# shotq has sampled it (the fake marks .seen.PID), and leaves. Task $1, when
# given, also ends the foreign process.
cat > task.sh <<'SH'
p=$FAKE_NVML_PROCS
echo "$SHOTQ_DEVICE $$ 700 40" > "$p/task-$$"
i=0
while [ ! -e "$p/.seen.$$" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
rm -f "$p/task-$$"
[ "$SHOTQ_TASK" = "${1:--1}" ] && rm -f "$p/foreign"
[ -e "$p/.seen.$$" ]
SH
foreign() { echo "0 999999 10700 97" > procs/foreign; } # 95 % of 11264 MiB

# 1. GPU 0 busy all along: every task runs on GPU 1; the busy event is in the
#    log, journal, report.json and shotq status; peaks are 700 MiB.
foreign
expect_status 0 "$SHOTQ" run -q --devices 0,1 --tasks 0-7 --run-dir r1 -- sh task.sh
[ "$(json r1/report.json '[t["device"] for t in r["tasks"]]')" = "[1, 1, 1, 1, 1, 1, 1, 1]" ] \
  || fail "a task ran on the busy GPU: $(json r1/report.json '[t["device"] for t in r["tasks"]]')"
grep -q "device 0 (NVIDIA GeForce GTX 1080 Ti): used by others (96% of memory, 97% utilisation; --gpu-busy 50): no new task until it frees" err \
  || { cat err; fail "no busy line"; }
[ "$(json r1/report.json '[(e["event"], e["device"]) for e in r["events"]]')" = "[('gpu-busy', 0)]" ] \
  || fail "report.json events: $(json r1/report.json 'r["events"]')"
grep -q '"ev":"gpu-busy","dev":0' r1/journal || fail "journal has no gpu-busy event"
[ "$(json r1/report.json '[t.get("gpu_mem_peak_mib") for t in r["tasks"]]')" = "[700, 700, 700, 700, 700, 700, 700, 700]" ] \
  || fail "peaks: $(json r1/report.json '[t.get("gpu_mem_peak_mib") for t in r["tasks"]]')"
[ "$(grep -c '"ev":"done".*"gpu_mem_peak":734003200' r1/journal)" = 8 ] || fail "journal peaks"
"$SHOTQ" status --json r1 > st.json
[ "$(json st.json '[d["state"] for d in r["state"]["devices"]] + [e["ev"] for e in r["events"]]')" = "['busy', 'ok', 'gpu-busy']" ] \
  || fail "status: $(cat st.json)"

# 1b. Utilisation alone: a foreign process with 100 MiB but 97 % of GPU 0's
#     time keeps it busy too.
rm -f procs/.seen.*
echo "0 999998 100 97" > procs/foreign
expect_status 0 "$SHOTQ" run -q --devices 0,1 --tasks 0-2 --run-dir r1b -- sh task.sh
[ "$(json r1b/report.json '[t["device"] for t in r["tasks"]]')" = "[1, 1, 1]" ] || fail "util busy"
grep -q "used by others (2% of memory, 97% utilisation; --gpu-busy 50)" err || { cat err; fail "util line"; }

# 2. The foreign process ends during the run (task 5 ends it): tasks 0-5 run
#    on GPU 1, GPU 0 is free again and takes tasks, none before it freed.
rm -f procs/.seen.*
foreign
expect_status 0 "$SHOTQ" run -q --devices 0,1 --tasks 0-19 --run-dir r2 -- sh task.sh 5
"$PY" - r2/report.json <<'PY' || fail "run 2"
import json, sys
r = json.load(open(sys.argv[1]))
dev = {t["id"]: t["device"] for t in r["tasks"]}
ev = [(e["event"], e["device"], e["t"]) for e in r["events"]]
assert [e[:2] for e in ev] == [("gpu-busy", 0), ("gpu-free", 0)], ev
free_t = ev[1][2]
assert [dev[i] for i in range(6)] == [1] * 6, dev
on0 = [t for t in r["tasks"] if t["device"] == 0]
assert len(on0) >= 1, dev
assert all(t["start_s"] >= free_t for t in on0), (free_t, on0)
assert len(on0) + sum(1 for t in r["tasks"] if t["device"] == 1) == 20
PY

# 3. --gpu-busy off, or a declared --task-mem (the user's own admission; GPU 0
#    has 398 MiB free), lets the faster GPU 0 take the first task anyway.
rm -f procs/.seen.*
foreign
expect_status 0 "$SHOTQ" run -q --devices 0,1 --tasks 0-3 --gpu-busy off --run-dir r3 -- sh task.sh
[ "$(json r3/report.json 'r["tasks"][0]["device"]')" = 0 ] || fail "--gpu-busy off"
expect_status 0 "$SHOTQ" run -q --devices 0,1 --tasks 0-3 --task-mem 100 --run-dir r4 -- sh task.sh
[ "$(json r4/report.json 'r["tasks"][0]["device"]')" = 0 ] || fail "--task-mem 100"
# ... and --gpu-busy 99 does too (95 % is below it).
expect_status 0 "$SHOTQ" run -q --devices 0,1 --tasks 0-3 --gpu-busy 99 --run-dir r5 -- sh task.sh
[ "$(json r5/report.json 'r["tasks"][0]["device"]')" = 0 ] || fail "--gpu-busy 99"

# 4. --task-mem auto on the 3072 MiB GPU 1 with 4 slots: before a peak is
#    known there is no limit (tasks 0-3 all run at once: each waits for the
#    others); after the first task ended (peak 700 MiB), each needs 875 MiB,
#    and with the 166 MiB others use at most 3 fit (3 x 875 = 2625).
cat > auto.sh <<'SH'
p=$FAKE_NVML_PROCS
echo "1 $$ 700 40" > "$p/task-$$" # NVML's GPU 1 (shotq's device 0 here)
touch "$p/.started.$SHOTQ_TASK"
i=0
while [ "$SHOTQ_TASK" -lt 4 ] && [ $i -lt 1000 ] &&
    ! { [ -e "$p/.started.0" ] && [ -e "$p/.started.1" ] && [ -e "$p/.started.2" ] &&
        [ -e "$p/.started.3" ]; }; do sleep 0.01; i=$((i + 1)); done
i=0
while [ ! -e "$p/.seen.$$" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
rm -f "$p/task-$$"
[ -e "$p/.seen.$$" ]
SH
rm -f procs/foreign procs/.seen.*
expect_status 0 "$SHOTQ" run -q --devices 1 --slots 4 --task-mem auto --tasks 0-11 --run-dir r6 -- sh auto.sh
"$PY" - r6/report.json <<'PY' || fail "--task-mem auto"
import json, sys
r = json.load(open(sys.argv[1]))
iv = {t["id"]: (t["start_s"], t["end_s"]) for t in r["tasks"]}
first4 = [iv[i] for i in range(4)]
assert max(s for s, _ in first4) < min(e for _, e in first4), first4  # 4 at once
t1 = min(e for _, e in iv.values())
for s, _ in iv.values():
    if s >= t1:
        n = sum(1 for a, b in iv.values() if a <= s < b)
        assert n <= 3, (s, n, iv)
assert all(t.get("gpu_mem_peak_mib") == 700 for t in r["tasks"]), r["tasks"]
PY

# 5. Bad values are bad input.
expect_status 2 "$SHOTQ" run -q --devices 0,1 --tasks 0 --gpu-busy 0 -- true
grep -q "option --gpu-busy '0': expected a percentage (1-100) or off" err || { cat err; fail "bad --gpu-busy"; }
expect_status 2 "$SHOTQ" run -q --devices 0,1 --tasks 0 --task-mem lots -- true
grep -q "option --task-mem 'lots': expected MiB (0-1e9) or auto" err || { cat err; fail "bad --task-mem"; }
echo ok
