# How shotq meets MPI launchers. One rank (or a launcher announcing one) is
# a plain single-node run. A build without MPI refuses several ranks (exit 2,
# saying why, nothing started). Under mpirun with several ranks, tasks see
# none of the launcher's variables (with one rank, as ever, they do).
. "$(dirname "$0")/lib.sh"
host=$(hostname)
OMPI_COMM_WORLD_SIZE=1 PMI_SIZE=1 "$SHOTQ" run -q --devices cpu:1 --tasks 0-1 --run-dir one -- true
[ "$(json one/report.json 'r["devices"][0]["node"]')" = "$host" ] || fail "one rank is not a plain run"
if "$SHOTQ" run --help | grep -q "This build: without MPI"; then
  for env in OMPI_COMM_WORLD_SIZE=2 PMI_SIZE=3 "PMIX_RANK=1 SLURM_STEP_NUM_TASKS=2"; do
    expect_status 2 env $env "$SHOTQ" run -q --devices cpu:1 --tasks 0-1 --run-dir no -- true
    grep -q "built without MPI support" err || { cat err; fail "$env: no clear message"; }
    [ ! -e no ] || fail "$env: the run directory was created"
  done
  echo "built without MPI: multi-rank launches refused"
fi
command -v mpirun >/dev/null || { echo "SKIP: mpirun not found (the rest needs it)"; exit 77; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# One machine: shared memory between ranks, Open MPI's own channel on loopback only.
export OMPI_MCA_btl=self,vader OMPI_MCA_oob_tcp_if_include=lo OMPI_MCA_btl_tcp_if_include=lo
task='env | grep -cE "^(OMPI|PMIX|PMI|ORTE|OPAL)_" > env-{}.txt; true'
mpirun --oversubscribe -np 1 "$SHOTQ" run -q --devices cpu:1 --tasks 0-1 --run-dir np1 -- sh -c "$task"
[ "$(json np1/report.json 'r["devices"][0]["node"]')" = "$host" ] || fail "mpirun -np 1 is not a plain run"
"$SHOTQ" run --help | grep -q "This build: with MPI" || { echo ok; exit 0; }
rm -f env-*.txt
# Rank 1 with 200 devices (its device report is larger than a task message).
args=(run -q --policy static --tasks 0-3 --run-dir np2 -- sh -c "$task")
mpirun --oversubscribe -np 1 -x SHOTQ_DEVICES=cpu:1 "$SHOTQ" "${args[@]}" : \
  -np 1 -x SHOTQ_DEVICES=sim:n:1x200 "$SHOTQ" "${args[@]}"
[ "$(cat env-*.txt | sort -u)" = 0 ] || fail "tasks saw the launcher's variables: $(cat env-*.txt)"
[ "$(json np2/report.json 'len(r["devices"])')" = 201 ] || fail "expected 201 devices"
[ "$(json np2/report.json 'sorted(set(t["device"] for t in r["tasks"]))')" = "[0, 1, 2, 3]" ]
echo ok
