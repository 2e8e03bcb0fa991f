# make install into a temporary prefix: the program, the plugin ABI headers,
# shotq.pc, the CMake package, man pages and bash completion land where they
# belong; a plugin builds against the installed prefix with pkg-config only
# (and with find_package(shotq)), and the installed shotq runs it.
. "$(dirname "$0")/lib.sh"
: "${SHOTQ_SRC:?run through ctest}"
P=$WORK/prefix
cmake --install "$SHOTQ_BUILD" --prefix "$P" >install.log
for f in bin/shotq include/shotq/plugin.h include/shotq/version.h lib/pkgconfig/shotq.pc \
         lib/cmake/shotq/shotqConfig.cmake lib/cmake/shotq/shotqConfigVersion.cmake \
         share/bash-completion/completions/shotq share/man/man7/shotq-plugin.7; do
  [ -f "$P/$f" ] || { cat install.log; fail "not installed: $f"; }
done
if command -v help2man >/dev/null; then
  for m in shotq shotq-run shotq-model shotq-simulate shotq-status shotq-devices; do
    [ -s "$P/share/man/man1/$m.1" ] || fail "man page $m.1 missing"
  done
  grep -q 'resume' "$P/share/man/man1/shotq-run.1" || fail "shotq-run.1 lacks the options"
fi

# --version: the project's version, also in report.json.
ver=$(sed -n 's/^project(shotq VERSION \([0-9.]*\).*/\1/p' "$SHOTQ_SRC/CMakeLists.txt")
"$P/bin/shotq" --version | grep -q "^shotq $ver (FD back ends: cpu" || fail "--version: $("$P/bin/shotq" --version)"

# A plugin built with pkg-config only, from outside the source tree.
export PKG_CONFIG_PATH=$P/lib/pkgconfig
[ "$(pkg-config --modversion shotq)" = "$ver" ] || fail "pkg-config --modversion"
cp "$SHOTQ_SRC/examples/plugins/example_plugin.c" mine.c
cc -std=c11 -Wall -Wextra -Werror -shared -fPIC $(pkg-config --cflags shotq) -o libmine.so mine.c
expect_status 0 "$P/bin/shotq" run -q --devices cpu:2 --tasks 0-9 --plugin ./libmine.so --run-dir r
[ "$(json r/report.json 'r["summary"]["done"], r["shotq_version"]')" = "10 $ver" ] || fail "plugin run"

# The same plugin through find_package(shotq) and shotq::plugin.
mkdir cm && cp mine.c cm/ && cat >cm/CMakeLists.txt <<'CM'
cmake_minimum_required(VERSION 3.25)
project(mine C)
find_package(shotq 0.1 REQUIRED)
add_library(mine MODULE mine.c)
target_link_libraries(mine PRIVATE shotq::plugin)
file(WRITE ${CMAKE_BINARY_DIR}/exe.txt "${SHOTQ_EXECUTABLE}")
CM
cmake -S cm -B cm/b -DCMAKE_PREFIX_PATH="$P" >cm.log 2>&1 || { cat cm.log; fail "find_package(shotq)"; }
cmake --build cm/b >>cm.log 2>&1 || { cat cm.log; fail "building with shotq::plugin"; }
[ "$(cat cm/b/exe.txt)" = "$P/bin/shotq" ] || fail "SHOTQ_EXECUTABLE: $(cat cm/b/exe.txt)"
expect_status 0 "$P/bin/shotq" run -q --devices cpu:1 --tasks 0-2 --plugin cm/b/libmine.so --run-dir r2

# Completion offers the subcommands and a command's options.
. "$P/share/bash-completion/completions/shotq"
COMP_WORDS=(shotq si); COMP_CWORD=1; _shotq
[ "${COMPREPLY[*]}" = simulate ] || fail "completion of 'si': ${COMPREPLY[*]}"
COMP_WORDS=("$P/bin/shotq" run --backo); COMP_CWORD=2; _shotq
[ "${COMPREPLY[*]}" = --backoff ] || fail "completion of 'run --backo': ${COMPREPLY[*]}"
echo ok
