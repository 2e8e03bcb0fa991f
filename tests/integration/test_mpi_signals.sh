# A batch system's SIGTERM reaches every rank (Slurm at the time limit): rank
# 0 stops dispatching and the running tasks finish on every node, the agents'
# included; exit 130; every started task is recorded done; --resume runs the
# rest, each task exactly once.
. "$(dirname "$0")/mpi_lib.sh"
. "$(dirname "$0")/lib.sh"
# Same command in both runs (--resume checks it); $NAP sets the task length.
mpmd sim:a:1 sim:b:1x2 -- run -q --tasks 0-29 --run-dir run -- \
  sh -c 'echo {} $SHOTQ_DEVICE >> ran.txt; exec sleep $NAP'
NAP=0.6 "${MPMD[@]}" > mpirun.out 2>&1 &
mp=$!
for _ in $(seq 1 100); do
  remote=$(grep -c ' [12]$' ran.txt 2>/dev/null || true)
  [ "${remote:-0}" -ge 2 ] && break
  sleep 0.05
done
sleep 0.2
p0=$(rank_pid 0) && p1=$(rank_pid 1) || fail "ranks not found"
kill -TERM "$p0" "$p1"
set +e; timeout 20 tail --pid=$mp -f /dev/null; wait $mp; st=$?; set -e
[ "$st" = 130 ] || { cat mpirun.out; fail "expected exit 130, got $st"; }
grep -q "interrupted: no new tasks" mpirun.out || fail "rank 0 did not drain"
[ -z "$(started_not_done run/journal)" ] || fail "a started task was not recorded done"
grep -q '"ev":"done"' run/journal || fail "no task recorded done"
n=$(wc -l < ran.txt)
[ "$n" -lt 30 ] || fail "the signal came too late ($n tasks ran)"
# Tasks of rank 1's node finished after the signal, too.
[ "$(json run/report.json 'sum(d["tasks_done"] for d in r["devices"][1:])')" -ge 2 ]
mpmd sim:a:1 sim:b:1x2 -- run -q --resume --tasks 0-29 --run-dir run -- \
  sh -c 'echo {} $SHOTQ_DEVICE >> ran.txt; exec sleep $NAP'
NAP=0.05 timeout 60 "${MPMD[@]}"
[ "$(cut -d' ' -f1 ran.txt | sort -n | tr '\n' ' ')" = "$(seq 0 29 | tr '\n' ' ')" ] \
  || fail "not every task exactly once: $(cut -d' ' -f1 ran.txt | sort -n | uniq -d)"
echo "$n tasks before the signal, all finished; resume ran the rest"

# Two SIGTERMs to a node agent whose plugin task runs for long: it stops its
# workers at once (a plugin's run() cannot notice; it is killed after 1 s),
# aborts the job, and nothing of that job is left.
mkdir inits
mpmd sim:a:1 sim:b:1 -- run -q --tasks 0-1 --run-dir long --plugin "$PLUGIN" \
  --plugin-config "initdir=$WORK/inits sleep=30"
"${MPMD[@]}" > mpirun2.out 2>&1 &
mp=$!
for _ in $(seq 1 100); do [ "$(ls inits | wc -l)" = 2 ] && break; sleep 0.05; done
sleep 0.3
p1=$(rank_pid 1) || fail "rank 1 not found"
t0=$(date +%s.%N)
kill -TERM "$p1"; sleep 0.2; kill -TERM "$p1"
set +e; timeout 20 tail --pid=$mp -f /dev/null; wait $mp; st=$?; set -e
took=$("$PY" -c "print(round($(date +%s.%N)-$t0,2))")
echo "two SIGTERMs to rank 1: job ended after $took s (mpirun exit $st)"
"$PY" -c "import sys; sys.exit(0 if float(sys.argv[1]) < 8 else 1)" "$took" || fail "took $took s"
[ "$st" != 0 ] || fail "mpirun exited 0"
grep -q "rank 1: terminated: stopping this node's tasks" mpirun2.out || { cat mpirun2.out; fail "no message"; }
sleep 0.3
! pgrep -f "initdir=$WORK/inits" >/dev/null || { pgrep -af "initdir=$WORK/inits"; fail "workers survived"; }
echo ok
