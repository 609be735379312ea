#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Builds the libFuzzer targets in tests/fuzz against the project's static
# libraries, compiled by clang with ASan + UBSan and fuzzer coverage, and
# runs each for a while on a copy of its seed corpus. A crash leaves its
# input in <build dir>/fuzz/crashes/ and makes this script exit 1.
#
#   tests/fuzz/run.sh [-d BUILD_DIR] [-t SECONDS] [TARGET...] [-- LIBFUZZER_ARGS]
#
# BUILD_DIR defaults to build-fuzz in the source root and is set up there
# when it does not exist yet; SECONDS defaults to 60 per target; TARGETs are
# frame and schema (both by default). Anything after -- goes to libFuzzer,
# e.g. -- -jobs=2 -workers=2, or -- -runs=0 to only replay the corpus.
set -eu

src=$(cd "$(dirname "$0")/../.." && pwd)
build=$src/build-fuzz
secs=60
targets=

while [ $# -gt 0 ]; do
	case $1 in
	-d) build=$2; shift 2 ;;
	-t) secs=$2; shift 2 ;;
	--) shift; break ;;
	-h|--help) sed -n '4,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	*) targets="$targets $1"; shift ;;
	esac
done
[ -n "$targets" ] || targets="frame schema"
case $build in /*) ;; *) build=$(pwd)/$build ;; esac

command -v clang >/dev/null || { echo "run.sh: clang is needed (apt-get install clang)" >&2; exit 2; }

# The libraries must carry the fuzzer's coverage hooks and the sanitizers,
# so they get their own build directory; only the three we link are built.
if [ ! -f "$build/build.ninja" ]; then
	CC=clang meson setup "$build" "$src" \
		-Db_sanitize=address,undefined -Db_lundef=false -Dwerror=false \
		-Dbuildtype=debugoptimized -Dc_args=-fsanitize=fuzzer-no-link
fi
meson compile -C "$build" src/util/ogw_util src/rpc/ogw_rpc src/schema/ogw_schema \
	src/gateway/ogw_gateway

out=$build/fuzz
mkdir -p "$out/crashes"
# fuzz_admin: only admin_http.o of the gateway library (libc alone)
libs="$build/src/gateway/libogw_gateway.a $build/src/schema/libogw_schema.a $build/src/rpc/libogw_rpc.a $build/src/util/libogw_util.a"
deps=$(pkg-config --cflags --libs jansson libwebsockets)

status=0
for t in $targets; do
	[ -f "$src/tests/fuzz/fuzz_$t.c" ] || { echo "run.sh: no target $t" >&2; exit 2; }
	# shellcheck disable=SC2086 # $libs and $deps are word lists
	clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -I"$src/include" -I"$src/src/gateway" \
		-o "$out/fuzz_$t" "$src/tests/fuzz/fuzz_$t.c" $libs $deps -lmbedcrypto -lm -lpthread
	corpus=$out/corpus-$t
	mkdir -p "$corpus"
	cp "$src/tests/fuzz/corpus/$t"/* "$corpus"/
	echo "== fuzz_$t for ${secs}s (corpus $corpus)"
	if ! ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		"$out/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix="$out/crashes/$t-" "$@" "$corpus" \
		2>"$out/fuzz_$t.log"; then
		status=1
		echo "!! fuzz_$t failed; inputs in $out/crashes/, log $out/fuzz_$t.log"
		grep -A30 -m1 'ERROR\|fuzz_'"$t"':' "$out/fuzz_$t.log" | head -40
	fi
	grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$out/fuzz_$t.log" || true
done
exit $status
