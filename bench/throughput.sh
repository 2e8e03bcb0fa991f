#!/usr/bin/env bash
# Dispatch throughput: no-op command tasks against xargs -P2, no-op plugin
# tasks, and coordinator memory with a million tasks.
set -euo pipefail
build=$1
shotq=$build/shotq
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
now() { date +%s.%N; }
rate() { /usr/bin/python3 -c "import sys;print('%.0f'%(float(sys.argv[1])/(float(sys.argv[3])-float(sys.argv[2]))))" "$@"; }
echo "## throughput"
for rep in 1 2 3; do
  t0=$(now); seq 2000 | xargs -P2 -n1 true; t1=$(now)
  xr=$(rate 2000 "$t0" "$t1")
  t0=$(now); "$shotq" run -q --devices cpu:2 --tasks 0-1999 --run-dir c$rep -- true; t1=$(now)
  sr=$(rate 2000 "$t0" "$t1")
  echo "2000 no-op commands on cpu:2: shotq $sr tasks/s, xargs -P2 $xr tasks/s ($(/usr/bin/python3 -c "print('%.0f'%(100*$sr/$xr))") %)"
done
for rep in 1 2 3; do
  t0=$(now); "$shotq" run -q --devices cpu:2 --tasks 0-199999 --run-dir p$rep --plugin "$build/example_plugin.so"; t1=$(now)
  echo "200000 no-op plugin tasks on cpu:2: $(rate 200000 "$t0" "$t1") tasks/s (wall, incl. start-up and report)"
  rm -rf p$rep
done
/usr/bin/time -f "%e %M" -o mem.txt "$shotq" run -q --devices cpu:2 --tasks 0-999999 --run-dir m --plugin "$build/example_plugin.so"
read -r secs kb < mem.txt
echo "1000000 no-op plugin tasks: $secs s wall, coordinator peak RSS $((kb / 1024)) MiB"
