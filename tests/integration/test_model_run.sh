# shotq model through the scheduler: every shot once, on several CPU devices,
# files identical to the in-process --shot K runs; resume after a kill.
. "$(dirname "$0")/lib.sh"
cat > job.ini <<'INI'
[model]
nx = 40
ny = 8
nz = 30
dx = 10
dy = 10
dz = 10
vp = 1500,2500@150
[survey]
source_x = 50:350:100
source_y = 40
source_z = 20
receiver_x = 0:390:10
receiver_y = 40
receiver_z = 10
[modeling]
nt = 350
dt = 0.0016
fpeak = 10
boundary_width = 8
[output]
dir = shots
INI
"$SHOTQ" model job.ini -q --devices cpu:2 --run-dir run --gantt g.svg
ls shots/shot_0000[0-3].sgy >/dev/null || fail "missing shot files"
[ "$(json run/report.json 'r["summary"]["done"]')" = 4 ]
[ "$(json run/report.json 'len(r["devices"])')" = 2 ]
mkdir ref
for k in 0 1 2 3; do
  "$SHOTQ" model job.ini --shot $k > /dev/null
  mv shots/shot_0000$k.sgy ref/
done
"$SHOTQ" model job.ini -q --devices cpu:1 --run-dir run2 --tasks 0 2>/dev/null && fail "--tasks accepted by shotq model"
for k in 0 1 2 3; do
  [ -e shots/shot_0000$k.sgy ] && fail "in-process run left shot $k in place"
done
"$SHOTQ" model job.ini -q --devices cpu:2 --run-dir run3
for k in 0 1 2 3; do
  cmp -s shots/shot_0000$k.sgy ref/shot_0000$k.sgy || fail "shot $k differs between scheduled and in-process runs"
done
# The plugin's per-shot log line (wall time, Gpts/s) is kept per task.
grep -qi "gpts" run3/logs/task-0.1.out || fail "no per-shot performance line: $(cat run3/logs/task-0.1.out 2>/dev/null)"
# A job file change is a different run: --resume refuses it.
sed -i 's/nt = 350/nt = 351/' job.ini
expect_status 2 "$SHOTQ" model job.ini -q --devices cpu:2 --run-dir run3 --resume
grep -q "made for a different command" err || { cat err; fail "changed job not refused"; }
# --retry-failed takes the changed job as a new epoch; every shot is done, so none runs.
starts=$(grep -c '"ev":"start"' run3/journal)
"$SHOTQ" model job.ini -q --devices cpu:2 --run-dir run3 --retry-failed
grep -q '"ev":"epoch".*retry-failed: new command' run3/journal || fail "no epoch for the changed job"
[ "$(grep -c '"ev":"start"' run3/journal)" = "$starts" ] || fail "--retry-failed ran a done shot"
echo ok
