# One coordinator per run directory: a second --resume (or run) on a run
# directory in use exits 2 naming the holder's pid and host, starts nothing
# and writes nothing into the journal; once the holder is gone, resume works.
. "$(dirname "$0")/lib.sh"
host=$(hostname)
"$SHOTQ" run -q --devices cpu:1 --tasks 0-5 --run-dir run -- sleep 0.4 &
pid=$!
for _ in $(seq 1 100); do
  n=$(grep -c '"ev":"start"' run/journal 2>/dev/null || true)
  [ "${n:-0}" -ge 1 ] && break
  sleep 0.05
done
lines=$(wc -l < run/journal)
expect_status 2 "$SHOTQ" run -q --devices cpu:1 --tasks 0-5 --run-dir run --resume -- sleep 0.4
grep -q "in use by shotq pid $pid on host $host" err || { cat err; fail "second coordinator not refused with the holder's pid and host"; }
[ "$(wc -l < err)" = 1 ] || { cat err; fail "expected one line"; }
wait $pid || fail "the first run failed"
"$PY" - run/journal "$lines" <<'PYEOF' || fail "the refused resume touched the journal or a task ran twice"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
starts = [e["task"] for e in ev if e.get("ev") == "start"]
sys.exit(0 if sorted(starts) == list(range(6)) else 1)
PYEOF
# The lock went with the holder: a resume of the finished run is fine.
"$SHOTQ" run -q --devices cpu:1 --tasks 0-5 --run-dir run --resume -- sleep 0.4
echo ok
