# shotq simulate over several nodes: --nodes repeats the device spec per node,
# ';' separates per-node specs, --latency delays tasks off node 0.
. "$(dirname "$0")/lib.sh"
"$SHOTQ" simulate --devices sim:a:1x8 --nodes 64 --tasks 10000 --json > n64.json
[ "$(json n64.json 'r["nodes"]')" = 64 ] || fail "expected 64 nodes"
[ "$(json n64.json 'len(r["devices"])')" = 512 ] || fail "expected 512 devices"
[ "$(json n64.json 'len(set(d["node"] for d in r["devices"]))')" = 64 ]
[ "$(json n64.json 'r["devices"][0]["node"]+" "+r["devices"][511]["node"]')" = "node0 node63" ]
[ "$(json n64.json 'sum(d["tasks_done"] for d in r["devices"])')" = 10000 ]
# 10000 unit tasks on 512 unit devices: 20 rounds.
[ "$(json n64.json 'abs(r["makespan_s"]-20)<1e-9')" = True ] || fail "makespan $(json n64.json 'r["makespan_s"]')"
# A dispatch latency of 0.01 s on the 63 remote nodes costs at most 20 x 0.01 s.
"$SHOTQ" simulate --devices sim:a:1x8 --nodes 64 --tasks 10000 --latency 0.01 --json > lat.json
[ "$(json lat.json 'r["latency_s"]')" = 0.01 ]
[ "$(json lat.json '20 < r["makespan_s"] <= 20.2+1e-9')" = True ] || fail "latency makespan $(json lat.json 'r["makespan_s"]')"
# Per-node specs: node 0 two fast, node 1 two slow (the hetero case): 11 s.
"$SHOTQ" simulate --devices 'sim:f:1x2;sim:s:0.4x2' --tasks 30 --json > het.json
[ "$(json het.json '[(d["node"],d["tasks_done"]) for d in r["devices"]]')" = \
  "[('node0', 11), ('node0', 11), ('node1', 4), ('node1', 4)]" ] || fail "got $(json het.json 'r["devices"]')"
"$SHOTQ" simulate --devices 'sim:f:1x2;sim:s:0.4x2' --nodes 3 --tasks 30 | grep -q "6 devices on 3 nodes" \
  || fail "text output does not name the nodes"
# One node: as before (no node names changed).
"$SHOTQ" simulate --devices sim:a:1x2 --tasks 4 --json > one.json
[ "$(json one.json 'r["nodes"]')" = 1 ]
expect_status 2 "$SHOTQ" simulate --devices 'sim:a:1;;sim:b:1' --tasks 4
grep -q "node 1: expected simulated devices" err || fail "empty node spec not explained"
expect_status 2 "$SHOTQ" simulate --devices sim:a:1 --nodes 0 --tasks 4
echo ok
