# Thin driver over CMake. `make` builds, `make demo` runs the demo job,
# `make check` runs every test (plain build + ASan/UBSan unit tests),
# `make bench` runs the benchmarks.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=
ifeq ($(CI),true)
CMAKE_ARGS += -DSHOTQ_WERROR=ON
endif

FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 120
CLANG      ?= $(shell command -v clang || command -v clang-14)

.PHONY: all deps demo check check-unit check-asan bench format clean fuzz soak install lint
PREFIX     ?= /usr/local

all: deps
	cmake -S . -B $(BUILD) $(CMAKE_ARGS)
	cmake --build $(BUILD) -j $(JOBS)

deps:
	@scripts/install-deps --check >/dev/null 2>&1 || scripts/install-deps

demo: all
	scripts/demo $(BUILD)

check: all
	cmake -S . -B $(ASAN_BUILD) -DSHOTQ_SANITIZE=ON $(CMAKE_ARGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest -L unit --output-on-failure -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The program, plugin headers, shotq.pc, CMake package, man pages, completion.
install: all
	cmake --install $(BUILD) --prefix $(PREFIX)

# Functions over 80 lines or complexity 20 outside scripts/lint-exceptions (lizard).
lint:
	scripts/lint $(BUILD)

bench: all
	bench/run $(BUILD)

# libFuzzer targets under ASan+UBSan, FUZZ_SECONDS each (default: 10 min total).
fuzz: deps
	cmake -S . -B $(FUZZ_BUILD) -DSHOTQ_FUZZ=ON -DCMAKE_C_COMPILER=$(CLANG)
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target $$(cd tests/fuzz && ls fuzz_*.c | sed 's/\.c$$//')
	FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run-all $(CURDIR) $(FUZZ_BUILD)

# 50 kill -9 of the coordinator + --resume (run, run --plugin, model); not in `make check`.
soak: all
	/usr/bin/python3 tests/reliability/soak.py --build $(BUILD) $(SOAK_ARGS)

format:
	clang-format -i $$(git ls-files '*.c' '*.h' '*.cu')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
