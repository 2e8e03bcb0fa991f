# shotq model --resume resumes: after a complete run it computes nothing;
# after kill -9 it computes only the shots not done; half-written files of
# the killed run (NAME.tmp.PID of a dead PID) are removed. Scheduler options
# that take a value pass through shotq model.
. "$(dirname "$0")/lib.sh"
cat > job.ini <<'INI'
[model]
nx = 30
ny = 8
nz = 24
dx = 10
dy = 10
dz = 10
vp = 1500
[survey]
source_x = 20:270:10
source_y = 40
source_z = 20
receiver_x = 0:290:20
receiver_y = 40
receiver_z = 10
[modeling]
nt = 300
dt = 0.002
fpeak = 10
boundary_width = 6
[output]
dir = shots
INI
nshot=26
starts() { grep -c '"ev":"start"' "$1/journal" || true; }

# A complete run, then --resume: nothing is computed again.
"$SHOTQ" model job.ini -q --devices cpu:1 --run-dir full --halt fail=50 --backoff 1:2
[ "$(json full/report.json 'r["summary"]["done"]')" = $nshot ] || fail "first run incomplete"
before=$(starts full)
ls -i shots/shot_00000.sgy > inode.before
"$SHOTQ" model job.ini -q --devices cpu:1 --run-dir full --resume
[ "$(starts full)" = "$before" ] || fail "--resume of a complete model run started $(( $(starts full) - before )) shot(s)"
ls -i shots/shot_00000.sgy | cmp -s - inode.before || fail "--resume rewrote a finished shot"
# --retry-failed passes through shotq model too: nothing failed, nothing runs.
"$SHOTQ" model job.ini -q --devices cpu:1 --run-dir full --retry-failed
[ "$(starts full)" = "$before" ] || fail "--retry-failed of a complete model run started a shot"
rm -rf shots

# Killed mid-run: the resume runs only the shots not done at the kill.
"$SHOTQ" model job.ini -q --devices cpu:1 --run-dir killed &
pid=$!
for _ in $(seq 1 300); do
  n=$(grep -c '"ev":"done"' killed/journal 2>/dev/null || true)
  [ "${n:-0}" -ge 3 ] && break
  sleep 0.05
done
kill -9 $pid; wait $pid 2>/dev/null || true
sleep 1
ndone=$(grep -c '"ev":"done"' killed/journal)
[ "$ndone" -ge 3 ] && [ "$ndone" -lt $nshot ] || fail "kill came at $ndone done shots (want 3..$((nshot-1)))"
done_ids=$("$PY" -c 'import json,sys
print(" ".join(str(json.loads(l)["task"]) for l in open(sys.argv[1]) if "\"ev\":\"done\"" in l))' killed/journal)
# A dead writer's half-written files.
: > shots/shot_00099.sgy.tmp.999999999
: > killed/report.json.tmp.999999999
: > shots/keep.tmp.$$          # a live writer's: left alone
nlines=$(wc -l < killed/journal)
"$SHOTQ" model job.ini -q --devices cpu:1 --run-dir killed --resume
[ "$(json killed/report.json 'r["summary"]["done"] + r["summary"]["done-earlier"]')" = $nshot ] || fail "resume did not finish every shot"
[ "$(json killed/report.json 'r["summary"]["done-earlier"]')" = "$ndone" ] || fail "resume did not count the shots done before the kill"
tail -n +$((nlines + 1)) killed/journal > after
for id in $done_ids; do
  ! grep -q "\"ev\":\"start\",\"task\":$id," after || fail "shot $id, done before the kill, computed again"
done
[ "$(grep -c '"ev":"start"' after)" -le $((nshot - ndone + 1)) ] || fail "resume started more shots than were left"
[ ! -e shots/shot_00099.sgy.tmp.999999999 ] || fail "stale shot temp file left"
[ ! -e killed/report.json.tmp.999999999 ] || fail "stale report temp file left"
[ -e shots/keep.tmp.$$ ] || fail "a live writer's temp file was removed"
for k in $(seq 0 $((nshot - 1))); do
  [ -s shots/$(printf 'shot_%05d.sgy' $k) ] || fail "shot $k missing after resume"
done
echo ok
