# Task-file arguments with shell-like quoting: a word with blanks and quotes
# reaches the task as one argv element through {args}; {args} inside a longer
# word is the words joined by blanks; an unterminated quote is refused (exit
# 2, one line with file:line:column) before anything runs; --resume with the
# same file matches the journal's fingerprint.
. "$(dirname "$0")/lib.sh"
cat > t.txt <<'TASKS'
0 'a b' "c \"d\" \$e" f\ g
1 weight=2 '' it\'s "x\\y" '$HOME *'
2 plain words	here
TASKS
"$SHOTQ" run -q --devices cpu:2 --tasks-file t.txt --run-dir r -- \
  sh -c 'printf "[%s]\n" "$@" > out.$0' {} {args} || fail "run failed"
[ "$(cat out.0)" = '[a b]
[c "d" $e]
[f g]' ] || { cat out.0; fail "task 0's argv"; }
[ "$(cat out.1)" = "[]
[it's]
[x\\y]
[\$HOME *]" ] || { cat out.1; fail "task 1's argv"; }
[ "$(cat out.2)" = '[plain]
[words]
[here]' ] || { cat out.2; fail "task 2's argv"; }

# {args} inside a word: the parsed words joined by single blanks.
"$SHOTQ" run -q --devices cpu:1 --tasks-file t.txt --run-dir j -- \
  sh -c 'printf "[%s]\n" "$1" > join.$0' {} --opts={args} || fail "joined run failed"
[ "$(cat join.0)" = '[--opts=a b c "d" $e f g]' ] || { cat join.0; fail "joined {args}"; }

# Same task set, same fingerprint: --resume of the finished run runs nothing.
rm -f out.*
"$SHOTQ" run -q --devices cpu:2 --tasks-file t.txt --run-dir r --resume -- \
  sh -c 'printf "[%s]\n" "$@" > out.$0' {} {args} || fail "resume refused the same task set"
[ ! -e out.0 ] || fail "--resume ran a done task again"

# Unterminated quotes and a trailing backslash: exit 2, one line, nothing made.
printf '0 ok\n1 mem=4 x '"'"'y z\n' > bad1.txt
expect_status 2 "$SHOTQ" run -q --devices cpu:1 --tasks-file bad1.txt --run-dir b -- true
[ "$(cat err)" = "shotq: error: bad1.txt:2: column 11: expected a closing ' for the quote opened here, got the end of the line" ] \
  || { cat err; fail "message for an unterminated single quote"; }
printf '0 "a b\n' > bad2.txt
expect_status 2 "$SHOTQ" run -q --devices cpu:1 --tasks-file bad2.txt --run-dir b -- true
[ "$(cat err)" = 'shotq: error: bad2.txt:1: column 3: expected a closing " for the quote opened here, got the end of the line' ] \
  || { cat err; fail "message for an unterminated double quote"; }
[ ! -e b ] || fail "a refused tasks file created the run directory"
echo ok
