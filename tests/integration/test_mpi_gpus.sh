# GPUs on a node agent, through the recorded fake nvidia-smi (two GTX 1080 Ti,
# one of them filled by another user's job, two GTX 780 Ti): rank 0 sees them
# with their node, memory admission keeps tasks needing 4000 MiB on the GPU
# with room (and rank 0's simulated device), each task sees its GPU's UUID,
# and the agent's memory refreshes (every 2 s) reach rank 0 without error.
. "$(dirname "$0")/mpi_lib.sh"
. "$(dirname "$0")/lib.sh"
export SHOTQ_NVML_LIB=/nonexistent/libnvidia-ml.so.1 SHOTQ_NVIDIA_SMI="$SHOTQ_SRC/tests/data/nvsmi/fake-nvidia-smi"
mpmd sim:a:1 auto -- run -q --tasks 0-11 --task-mem 4000 --run-dir run -- \
  sh -c 'echo "{} $SHOTQ_DEVICE $CUDA_VISIBLE_DEVICES" >> ran.txt; exec sleep 0.5'
timeout 60 "${MPMD[@]}" 2> err || { cat err; fail "run failed"; }
! grep -q "cluster transport" err || { cat err; fail "transport error"; }
[ "$(json run/report.json 'len(r["devices"])')" = 5 ] || fail "expected 1 + 4 devices"
[ "$(json run/report.json '[d["kind"] for d in r["devices"]]')" = "['sim', 'gpu', 'gpu', 'gpu', 'gpu']" ]
[ "$(json run/report.json 'len(set(d["node"] for d in r["devices"][1:]))')" = 1 ]
[ "$(json run/report.json 'r["devices"][0]["node"]!=r["devices"][1]["node"]')" = True ]
# Only device 0 (sim, 16 GiB) and device 1 (the free 1080 Ti) can hold 4000 MiB.
[ "$(json run/report.json 'sorted(set(t["device"] for t in r["tasks"]))')" = "[0, 1]" ] \
  || fail "tasks on devices $(json run/report.json 'sorted(set(t["device"] for t in r["tasks"]))')"
[ "$(json run/report.json 'r["summary"]["done"]')" = 12 ]
[ "$(awk '$2 == 1 {print $3}' ran.txt | sort -u)" = GPU-5b9a1d3e-7c2f-4a8e-9f1b-2d6c8e4a7b10 ] \
  || fail "tasks on device 1 saw CUDA_VISIBLE_DEVICES $(awk '$2 == 1 {print $3}' ran.txt | sort -u)"
echo ok
