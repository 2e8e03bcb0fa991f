# Transient faults are not fatal (issue 7 item 3): a 3 s outage (every task
# fails while a flag file exists) quarantines the devices, the back-off probes
# them again and every task finishes; each quarantine, probe and recovery is
# one line (also with -q), a journal event and a report event. --halt stops a
# run early, by rule only; tasks never run are counted as such everywhere.
. "$(dirname "$0")/lib.sh"

# 1. 200 tasks, outage of ~3 s from the start, back-off 1 s doubling (cap 8 s).
touch "$WORK/down"
(sleep 3; rm -f "$WORK/down") &
expect_status 0 "$SHOTQ" run -q --devices cpu:2 --tasks 0-199 --backoff 1:8 --run-dir o1 -- \
  sh -c "[ ! -e '$WORK/down' ] || { echo outage >&2; exit 1; }"
wait
[ "$(json o1/report.json 'r["summary"]["done"]')" = 200 ] || fail "not every task done"
grep -q "device 0 (.*): quarantined after 3 consecutive failure(s); probing again in 1 s" err \
  || { cat err; fail "no quarantine line with -q"; }
grep -q "recovered" err || { cat err; fail "no recovery line"; }
[ "$(json o1/report.json 'sum(d["quarantines"] for d in r["devices"]) >= 2')" = True ] \
  || fail "report.json counts no quarantines"
[ "$(json o1/report.json '"quarantine" in [e["event"] for e in r["events"]] and "recover" in [e["event"] for e in r["events"]]')" = True ] \
  || fail "report.json has no quarantine/recover events"
grep -q '"ev":"quarantine","dev":0' o1/journal || fail "journal has no quarantine event"
grep -q '"ev":"recover"' o1/journal || fail "journal has no recover event"

# 2. The default is to wait for the device: without --halt a broken command
#    is retried after the back-off, until the device is retired.
expect_status 1 "$SHOTQ" run -q --devices cpu:1 --tasks 0-9 --backoff 0.2:0.4 --run-dir broken -- false
grep -q "not using it again" err || { cat err; fail "no retire line"; }
[ "$(grep -c 'quarantined after' err)" -ge 2 ] || { cat err; fail "no second quarantine"; }
[ "$(json broken/report.json 'r["summary"]["done"]')" = 0 ]

# 3. --halt fail=4: 4 failed attempts stop dispatch; the rest never ran, and
#    the final line, the not-run line and report.json agree.
expect_status 1 "$SHOTQ" run --devices cpu:1 --tasks 0-19 --halt fail=4 --backoff 0.2:0.4 \
  --run-dir halt -- false
grep -q "halt: 4 failed attempt(s) meet --halt" err || { cat err; fail "no halt line"; }
grep -q '"ev":"halt"' halt/journal || fail "journal has no halt event"
[ "$(json halt/report.json '[e["event"] for e in r["events"]].count("halt")')" = 1 ]
notrun=$(json halt/report.json 'r["summary"]["pending"]')
failed=$(json halt/report.json 'r["summary"]["failed"]')
[ $((notrun + failed)) = 20 ] && [ "$notrun" -ge 16 ] || fail "expected >= 16 tasks not run (got $notrun)"
grep -q "shotq: 0 done (0 of them by an earlier run), $failed failed, $notrun not run;" err \
  || { cat err; fail "final line disagrees with report.json"; }
grep -q "shotq: $notrun task(s) not run" err || { cat err; fail "no not-run line"; }

# 4. Bad --halt / --backoff values are bad input.
expect_status 2 "$SHOTQ" run -q --devices cpu:1 --tasks 0 --halt fail=x -- true
grep -q "option --halt 'fail=x': expected" err || fail "bad --halt message"
expect_status 2 "$SHOTQ" run -q --devices cpu:1 --tasks 0 --backoff 5:1 -- true
grep -q "option --backoff '5:1': expected" err || fail "bad --backoff message"
echo ok
