# shotq simulate: the policy core on a virtual clock.
. "$(dirname "$0")/lib.sh"
"$SHOTQ" simulate --devices sim:fast:1.0x2,slow:0.4x2 --tasks 30 --json > s.json
# 30 tasks of weight 1 at speeds 1,1,.4,.4: fast do 11 each, slow 4 each: 11 s.
[ "$(json s.json 'abs(r["makespan_s"]-11)<1e-9')" = True ] || fail "makespan $(json s.json 'r["makespan_s"]')"
[ "$(json s.json 'abs(r["lower_bound_s"]-30/2.8)<1e-9')" = True ]
"$SHOTQ" simulate --devices sim:fast:1.0x2,slow:0.4x2 --tasks 30 --policy static --json > st.json
[ "$(json st.json 'abs(r["makespan_s"]-17.5)<1e-9')" = True ] || fail "static makespan $(json st.json 'r["makespan_s"]')"
"$SHOTQ" simulate --devices sim:g:1x500,h:0.5x500 --tasks 200000 --json > big.json
[ "$(json big.json 'r["ratio"] < 1.01')" = True ] || fail "large run ratio $(json big.json 'r["ratio"]')"
printf '0 weight=5\n1 weight=1\n2 weight=1\n3 weight=1\n4 weight=1\n5 weight=1\n' > w.txt
"$SHOTQ" simulate --devices sim:a:1x2 --tasks-file w.txt --json > w.json
[ "$(json w.json 'abs(r["makespan_s"]-5)<1e-9')" = True ] || fail "LPT makespan $(json w.json 'r["makespan_s"]')"
"$SHOTQ" simulate --devices sim:fast:1.0x2,slow:0.4x2 --tasks 30 | grep -q "ratio"
echo ok
