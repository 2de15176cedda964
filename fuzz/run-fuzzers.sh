#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, -Dfuzzing=true, own build dir) and
# runs each one for a bounded time, starting from the seed corpus in
# fuzz/corpus/<target>/. See docs/security.md.
#
#   fuzz/run-fuzzers.sh [-t SECONDS] [-b BUILD_DIR] [TARGET...]
#
#   -t SECONDS    time per target (default $FUZZ_SECONDS, else 60)
#   -b BUILD_DIR  meson build dir (default build/fuzz)
#   TARGET        http-request, asf, asf-filter, framing, push-response, framing-writers,
#                 connection, pull-session (default: all)
#
# Per input: -timeout=$FUZZ_TIMEOUT s (default 10), -rss_limit_mb=
# $FUZZ_RSS_LIMIT_MB (default 2048). ASAN_OPTIONS defaults to
# quarantine_size_mb=16 (docs/security.md: ASan's 256 MB quarantine makes
# every input fault in fresh pages; 16 MB still spans many inputs). A crash, sanitizer report, leak, timeout
# or out-of-memory fails the target; its input is saved as
# BUILD_DIR/artifacts/<target>-crash-… (replay: BUILD_DIR/fuzz/fuzz-<target>
# FILE). New coverage-increasing inputs are kept in BUILD_DIR/corpus/<target>/
# (the repo's seed corpus is never written to).
#
# Prints one line per target ("fuzz <target>: PASS|FAIL, N executions in S s")
# and writes them as "<target> PASS|FAIL N" to BUILD_DIR/fuzz-results.txt.
# Exits non-zero when a target failed or the build failed.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
all_targets=(http-request asf asf-filter framing push-response framing-writers connection
             pull-session)
seconds=${FUZZ_SECONDS:-60}
timeout=${FUZZ_TIMEOUT:-10}
rss_limit=${FUZZ_RSS_LIMIT_MB:-2048}
export ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=16}
build=build/fuzz

# Prints the usage lines of the header above; exits with status $1.
usage() {
    sed -n '6,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit "$1"
}

while getopts "t:b:h" option; do
    case "$option" in
    t) seconds=$OPTARG ;;
    b) build=$OPTARG ;;
    h) usage 0 ;;
    *) usage 2 ;;
    esac
done
shift $((OPTIND - 1))
targets=("$@")
if ((${#targets[@]} == 0)); then
    targets=("${all_targets[@]}")
fi
for target in "${targets[@]}"; do
    if [[ ! " ${all_targets[*]} " =~ \ $target\  ]]; then
        echo "run-fuzzers: unknown target '$target' (${all_targets[*]})" >&2
        exit 2
    fi
done
if [[ ! "$seconds" =~ ^[1-9][0-9]*$ ]]; then
    echo "run-fuzzers: -t needs a positive number of seconds" >&2
    exit 2
fi

cd "$root"
[[ "$build" = /* ]] || build=$root/$build
results=$build/fuzz-results.txt

build_targets() {
    bash tools/install-deps.sh --tests || return
    if [[ ! -f "$build/build.ninja" ]]; then
        rm -rf "$build"
        CC=clang CXX=clang++ meson setup "$build" -Dfuzzing=true \
            -Dtests=disabled -Dtools=disabled || return
    fi
    local names=()
    for target in "${targets[@]}"; do
        names+=("fuzz-$target")
    done
    if ! meson compile -C "$build" "${names[@]}"; then
        echo "run-fuzzers: the build failed (meson.build must have subdir('fuzz'))" >&2
        return 1
    fi
}

# Runs one target; prints its line and appends it to the results.
run_target() {
    local target=$1
    local log=$build/logs/$target.log
    mkdir -p "$build/corpus/$target" "$build/artifacts" "$build/logs"
    local status=0
    local start=$SECONDS
    "$build/fuzz/fuzz-$target" -max_total_time="$seconds" -timeout="$timeout" \
        -rss_limit_mb="$rss_limit" -print_final_stats=1 \
        -artifact_prefix="$build/artifacts/$target-" \
        "$build/corpus/$target" "fuzz/corpus/$target" >"$log" 2>&1 || status=$?
    local elapsed=$((SECONDS - start))
    local executions
    executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    executions=${executions:-0}
    local verdict=PASS
    if ((status != 0)); then
        verdict=FAIL
        echo "run-fuzzers: fuzz-$target exited with status $status; the end of $log:" >&2
        tail -n 60 "$log" >&2
    fi
    echo "fuzz $target: $verdict, $executions executions in $elapsed s"
    echo "$target $verdict $executions" >>"$results"
    [[ "$verdict" == PASS ]]
}

mkdir -p "$build"
rm -f "$results"
if ! build_targets; then
    for target in "${targets[@]}"; do
        echo "$target FAIL 0" >>"$results"
    done
    exit 1
fi

failed=0
for target in "${targets[@]}"; do
    run_target "$target" || failed=$((failed + 1))
done
echo "fuzz: $((${#targets[@]} - failed)) passed, $failed failed (${seconds} s each)"
((failed == 0))
