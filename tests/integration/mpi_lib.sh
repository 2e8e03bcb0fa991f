# Helpers of the multi-node (MPI) integration tests, sourced before lib.sh.
# Skips the test (CTest skip code 77, with a SKIP line) when mpirun is absent or shotq was
# built without MPI.
command -v mpirun >/dev/null || { echo "SKIP: mpirun not found"; exit 77; }
"$SHOTQ" run --help | grep -q "This build: with MPI" \
  || { echo "SKIP: shotq built without MPI support"; exit 77; }
# We may be root in containers; Open MPI refuses that unless told.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Two cores and several ranks: let ranks share cores. All ranks are on this
# machine: shared memory between them, and Open MPI's own out-of-band
# channel on the loopback interface only (no traffic to other addresses).
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl=self,vader
export OMPI_MCA_oob_tcp_if_include=lo OMPI_MCA_btl_tcp_if_include=lo
MPIRUN=(mpirun --oversubscribe)

# mpmd SPEC... -- ARGS...: sets the array MPMD to an MPMD command
# line with one rank per SPEC (its SHOTQ_DEVICES) running `shotq ARGS...`.
mpmd() {
  local specs=() a
  while [ $# -gt 0 ] && [ "$1" != -- ]; do specs+=("$1"); shift; done
  shift
  MPMD=("${MPIRUN[@]}")
  local first=1
  for a in "${specs[@]}"; do
    [ $first = 1 ] || MPMD+=(:)
    first=0
    MPMD+=(-np 1 -x "SHOTQ_DEVICES=$a" "$SHOTQ" "$@")
  done
}

# rank_pid N: pid of the shotq process of MPI rank N of this test's job (its
# working directory is this test's), not its workers (whose environment has no
# MPI variables) nor another test's ranks.
rank_pid() {
  local p here
  here=$(pwd -P)
  for p in $(pgrep -x shotq); do
    [ "$(readlink "/proc/$p/cwd" 2>/dev/null)" = "$here" ] || continue
    # (Processes may end meanwhile: no noise about them.)
    if { tr '\0' '\n' < "/proc/$p/environ"; } 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1" \
       && { tr '\0' ' ' < "/proc/$p/cmdline"; } 2>/dev/null | grep -q " run "; then
      echo "$p"; return 0
    fi
  done
  return 1
}
