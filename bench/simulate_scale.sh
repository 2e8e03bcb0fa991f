#!/usr/bin/env bash
# shotq simulate at cluster scale: 10,000 devices, 1,000,000 tasks.
set -euo pipefail
build=$1
out=$(mktemp)
trap 'rm -f "$out" "$out.t"' EXIT
echo "## simulate scale"
/usr/bin/time -f "%e %M" -o "$out.t" "$build/shotq" simulate \
  --devices sim:a100:1.0x5000,v100:0.6x3000,k80:0.25x2000 --tasks 1000000 --json > "$out"
read -r secs kb < "$out.t"
/usr/bin/python3 -c "import json;r=json.load(open('$out'));print('10000 devices, 1000000 tasks: makespan %.3f s, bound %.3f s, ratio %.5f; %s s wall, %d MiB'%(r['makespan_s'],r['lower_bound_s'],r['ratio'],'$secs',$kb//1024))"
printf '' > "$out"
/usr/bin/python3 -c "
import random; random.seed(1)
for i in range(200000): print(i, 'weight=%.3f' % random.uniform(0.5, 4))" > "$out.w"
/usr/bin/time -f "%e %M" -o "$out.t" "$build/shotq" simulate \
  --devices sim:fast:1.0x300,slow:0.4x300 --tasks-file "$out.w" --json > "$out"
read -r secs kb < "$out.t"
/usr/bin/python3 -c "import json;r=json.load(open('$out'));print('600 devices, 200000 weighted tasks (LPT): ratio %.5f; %s s wall'%(r['ratio'],'$secs'))"
rm -f "$out.w"
