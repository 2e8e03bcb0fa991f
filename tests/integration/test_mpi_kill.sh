# kill -9 of a node agent (rank 1) mid-run: the MPI job ends in bounded time,
# no task process survives, and --resume (3 ranks again) runs every task not
# recorded done: every task done, only tasks running at the kill ran twice.
# Then the coordinator lost: kill -9 of rank 0 (then --resume), and rank 0
# hung (SIGSTOP) while agents wait for it (SHOTQ_CLUSTER_TIMEOUT): the job
# ends, no task of any node survives.
. "$(dirname "$0")/mpi_lib.sh"
. "$(dirname "$0")/lib.sh"
marker="shotq-mpi-kill-$$"
mpmd sim:a:1x2 sim:b:1x2 sim:c:1x2 -- run -q --tasks 0-59 --run-dir run -- \
  sh -c 'echo {} >> ran.txt; exec sleep 0.3' "$marker"
"${MPMD[@]}" > mpirun.out 2>&1 &
mp=$!
pid=
for _ in $(seq 1 100); do
  pid=$(rank_pid 1) && [ -s ran.txt ] && break
  sleep 0.05
done
[ -n "$pid" ] || fail "rank 1 not found"
sleep 1
kill -9 "$pid"
t0=$(date +%s.%N)
# The job must end by itself: mpirun takes the other ranks down.
for _ in $(seq 1 200); do kill -0 $mp 2>/dev/null || break; sleep 0.05; done
kill -0 $mp 2>/dev/null && { kill -9 $mp; fail "the MPI job did not end within 10 s of the kill"; }
set +e; wait $mp; st=$?; set -e
echo "job ended $("$PY" -c "print(round($(date +%s.%N)-$t0,2))") s after the kill (mpirun exit $st)"
[ "$st" != 0 ] || fail "mpirun exited 0 after a rank was killed"
sleep 0.5
! pgrep -f "$marker" >/dev/null || { pgrep -af "$marker"; fail "task processes survived the job"; }
before=$(sort -n ran.txt | uniq | wc -l)
[ "$before" -gt 0 ] && [ "$before" -lt 60 ] || fail "kill came at a bad time ($before tasks ran)"
started_not_done run/journal > running_at_kill.txt
mpmd sim:a:1x2 sim:b:1x2 sim:c:1x2 -- run -q --resume --tasks 0-59 --run-dir run -- \
  sh -c 'echo {} >> ran.txt; exec sleep 0.3' "$marker"
timeout 60 "${MPMD[@]}"
[ "$(sort -n ran.txt | uniq | wc -l)" = 60 ] || fail "not every task ran"
sort -n ran.txt | uniq -d > twice.txt
extra=$(comm -23 <(sort twice.txt) <(sort running_at_kill.txt))
[ -z "$extra" ] || fail "tasks ran twice that were not running at the kill: $extra"
[ "$(json run/report.json 'r["summary"]["done"]+r["summary"]["done-earlier"]')" = 60 ]
[ "$(json run/report.json 'len(set(d["node"] for d in r["devices"]))')" = 3 ]
echo "$before tasks ran before the kill; ran twice: $(tr '\n' ' ' < twice.txt)(running at kill: $(tr '\n' ' ' < running_at_kill.txt))"

# lose_rank0 SIGNAL WHAT: runs 2 ranks, sends SIGNAL to rank 0 once tasks run
# on both nodes, checks the job ends within 10 s with no task left.
lose_rank0() {
  rm -rf run0 ran.txt
  mpmd sim:a:1 sim:b:1 -- run -q --tasks 0-19 --run-dir run0 -- \
    sh -c 'echo {} $SHOTQ_DEVICE >> ran.txt; exec sleep 0.3' "$marker"
  SHOTQ_CLUSTER_TIMEOUT=2.5 "${MPMD[@]}" -x SHOTQ_CLUSTER_TIMEOUT > mpirun.out 2>&1 &
  mp=$!
  for _ in $(seq 1 100); do
    grep -q ' 1$' ran.txt 2>/dev/null && break
    sleep 0.05
  done
  pid=$(rank_pid 0) || fail "rank 0 not found"
  kill "-$1" "$pid"
  t0=$(date +%s.%N)
  for _ in $(seq 1 200); do kill -0 $mp 2>/dev/null || break; sleep 0.05; done
  kill -0 $mp 2>/dev/null && { kill -9 $mp "$pid"; fail "$2: the job did not end within 10 s"; }
  set +e; wait $mp; st=$?; set -e
  echo "$2: job ended $("$PY" -c "print(round($(date +%s.%N)-$t0,2))") s later (mpirun exit $st)"
  [ "$st" != 0 ] || fail "$2: mpirun exited 0"
  sleep 0.5
  ! pgrep -f "$marker" >/dev/null || { pgrep -af "$marker"; fail "$2: task processes survived"; }
}
lose_rank0 KILL "rank 0 killed"
# ... and --resume from rank 0's run directory finishes the rest.
started_not_done run0/journal > running_at_kill.txt
mpmd sim:a:1 sim:b:1 -- run -q --resume --tasks 0-19 --run-dir run0 -- \
  sh -c 'echo {} $SHOTQ_DEVICE >> ran.txt; exec sleep 0.3' "$marker"
SHOTQ_CLUSTER_TIMEOUT=2.5 timeout 60 "${MPMD[@]}"
ids() { cut -d' ' -f1 ran.txt | sort -n; }
[ "$(ids | uniq | wc -l)" = 20 ] || fail "rank 0 killed: not every task ran after --resume"
extra=$(comm -23 <(ids | uniq -d | sort) <(sort running_at_kill.txt))
[ -z "$extra" ] || fail "rank 0 killed: tasks ran twice that were not running: $extra"
lose_rank0 STOP "rank 0 hung"
grep -q "rank 1: no word from rank 0" mpirun.out || { cat mpirun.out; fail "agent did not say it lost rank 0"; }
echo ok
