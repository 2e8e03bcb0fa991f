# shotq model over 2 MPI ranks writes the same SEG-Y files as on one node.
# Every CPU device gets one core (cpu:2 on 2 cores): one thread per shot.
. "$(dirname "$0")/mpi_lib.sh"
. "$(dirname "$0")/lib.sh"
"$SHOTQ" model --help-job >/dev/null 2>&1 \
  || { echo "SKIP: shotq model is not built in this tree (shotq model --help-job fails)"; exit 77; }
# One job file for both runs (SEG-Y headers name it): 4 shots, a small grid.
cat > "$WORK/job.ini" <<JOB
[model]
nx = 41
ny = 11
nz = 31
dx = 10
dy = 10
dz = 10
vp = 2000
[survey]
source_x = 100:250:50
source_y = 50
source_z = 20
receiver_x = 0:400:20
receiver_y = 50
receiver_z = 10
[modeling]
nt = 60
dt = 0.001
fpeak = 10
[output]
dir = $WORK/out
JOB
"$SHOTQ" model "$WORK/job.ini" --quiet --devices cpu:2 --run-dir r1
mv out out1
mpmd cpu:2 cpu:2 -- model "$WORK/job.ini" --quiet --run-dir r2
timeout 120 "${MPMD[@]}"
mv out out2
n1=$(ls out1/*.sgy | wc -l)
[ "$n1" = 4 ] || fail "expected 4 shots on one node, got $n1"
[ "$(ls out2/*.sgy | wc -l)" = 4 ] || fail "expected 4 shots over 2 ranks, got $(ls out2/*.sgy | wc -l)"
for f in out1/*.sgy; do
  cmp "$f" "out2/$(basename "$f")" || fail "$(basename "$f") differs between 1 and 2 nodes"
done
[ "$(json r2/report.json 'len(set(d["node"] for d in r["devices"]))')" = 2 ] || fail "expected 2 nodes"
[ "$(json r2/report.json 'r["summary"]["done"]')" = 4 ]
[ "$(json r2/report.json 'sum(1 for t in r["tasks"] if t["device"]>=2)')" -ge 1 ] \
  || fail "no shot ran on rank 1's device"
echo ok
