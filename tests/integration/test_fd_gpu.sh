# CPU and CUDA back ends give the same seismograms (relative L2 <= 1e-4) for
# both equations, CPML and sponge, with and without free surface. Runs where a
# GPU is present; skips cleanly elsewhere (scripts/gpu-check does the same
# plus throughput numbers).
. "$(dirname "$0")/lib.sh"
bench="$SHOTQ_BUILD/fd_bench"
[ -x "$bench" ] || { echo "SKIP: fd_bench not built"; exit 77; }
set +e
"$bench" --compare --n 40 --steps 120 > out.txt 2> err.txt
rc=$?
set -e
if [ $rc -ne 0 ] && grep -q "no CUDA device available" err.txt; then
  echo "SKIP: no CUDA device (or built without CUDA)"
  exit 77
fi
cat out.txt err.txt
[ $rc -eq 0 ] || fail "CPU and GPU seismograms differ (fd_bench --compare exit $rc)"
echo ok
