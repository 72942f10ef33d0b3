#!/bin/sh
# tests/run.sh - everything `make test` runs, in order, with one summary.
#
#   1. unit tests (build/tests/*), release build
#   2. integration tests (node --test) against build/hearth and build/hearth-testd
#   3. both again under AddressSanitizer + UndefinedBehaviorSanitizer
#   4. fuzz: replay committed crashers and corpora, then a short run per target
#
# Each unit program prints "# name: N passed, M failed"; node's runner
# prints "# pass N" / "# fail M"; fuzz targets count one each. The last
# line is "N passed, N failed"; the exit status is non-zero on any failure.
# FUZZ_SECONDS (default 15) is the time per fuzz target.
set -u
cd "$(dirname "$0")/.."
passed=0
failed=0
log=build/test-logs
mkdir -p "$log"

count_unit() { # $1 = output file
	p=$(sed -n 's/^# .*: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$1" | tail -n 1)
	f=$(sed -n 's/^# .*: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$1" | tail -n 1)
	echo "${p:-0} ${f:-1}"
}

run_units() { # $1 = dir, $2 = label
	for t in $(find "$1" -type f -perm -u+x 2>/dev/null | sort); do
		name=$(echo "$t" | sed "s|^$1/||")
		out="$log/$2-$(echo "$name" | tr / _).log"
		"$t" >"$out" 2>&1
		rc=$?
		set -- $(count_unit "$out") "$1" "$2"
		if [ "$rc" -ne 0 ] && [ "$2" -eq 0 ]; then set -- "$1" 1 "$3" "$4"; fi
		passed=$((passed + $1))
		failed=$((failed + $2))
		printf '%-8s %-40s %s passed, %s failed\n' "[$4]" "$name" "$1" "$2"
		[ "$2" -ne 0 ] && grep -E "FAIL|check failed|ERROR|runtime error" "$out" | head -20
		shift 2
	done
}

run_integration() { # $1 = label, $2 = hearth, $3 = testd
	out="$log/$1-integration.log"
	HEARTH_BIN="$2" HEARTH_TESTD="$3" node --test --test-reporter=tap tests/integration/ >"$out" 2>&1
	rc=$?
	p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$out" | tail -n 1)
	f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$out" | tail -n 1)
	p=${p:-0}
	f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	passed=$((passed + p))
	failed=$((failed + f))
	printf '%-8s %-40s %s passed, %s failed\n' "[$1]" "integration (node --test)" "$p" "$f"
	if [ "$f" -ne 0 ]; then grep -B2 -A12 "^not ok\|^    not ok" "$out" | head -80; fi
}

run_fuzz() {
	secs=${FUZZ_SECONDS:-15}
	for f in build/fuzz/*_fuzz; do
		[ -x "$f" ] || continue
		target=$(basename "$f" _fuzz)
		out="$log/fuzz-$target.log"
		ok=1
		# Replay: committed crashers must no longer crash, the corpus must pass.
		crashers=$(ls fuzz/crashers/$target-* 2>/dev/null || true)
		if [ -n "$crashers" ]; then "$f" $crashers >"$out" 2>&1 || ok=0; fi
		if [ "$ok" -eq 1 ]; then
			work="build/fuzz/corpus-$target"
			mkdir -p "$work"
			dict=""
			[ -f "fuzz/$target.dict" ] && dict="-dict=fuzz/$target.dict"
			"$f" -max_total_time="$secs" -print_final_stats=1 $dict \
				-artifact_prefix="build/fuzz/$target-" "$work" "fuzz/corpus/$target" \
				>>"$out" 2>&1 || ok=0
		fi
		if [ "$ok" -eq 1 ]; then passed=$((passed + 1)); r="1 passed, 0 failed"; else
			failed=$((failed + 1)); r="0 passed, 1 failed"; tail -n 30 "$out"; fi
		printf '%-8s %-40s %s\n' "[fuzz]" "$target (${secs}s)" "$r"
	done
}

export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export HR_TEST_TIMEOUT=${HR_TEST_TIMEOUT:-120}

run_units build/tests release
run_integration release build/hearth build/hearth-testd
run_units build/asan/tests asan
run_integration asan build/asan/hearth build/asan/hearth-testd
run_fuzz

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
