#!/usr/bin/env bash
# Builds wmstream and runs every test (unit, element, interop) with meson.
#
#   tools/run-tests.sh [--security] [--package] [MESON TEST ARGS]    e.g. --suite unit, or a test name
#
# Installs what is missing (tools/install-deps.sh --tests), configures build/
# once, builds, runs `meson test -C build --print-errorlogs`, and always ends
# with one line "N passed, N failed" (plus ", N skipped" when tests skipped,
# after a line "skipped: NAME, …"), counted from build/meson-logs/testlog.json.
# Under CI (CI=true) a skipped test counts as failed: CI installs every peer
# program, so a skip means one is missing. Exits non-zero when a test failed,
# when no test passed (none ran, or all skipped), or when the build failed.
#
# With --security, or on CI (CI=true), it then also runs every fuzz target
# for $FUZZ_SECONDS (here default 30) s (fuzz/run-fuzzers.sh, build/fuzz) and the
# whole suite under ASan + UBSan (tools/sanitize-tests.sh, build/sanitize)
# and the element tests under GStreamer's leaks tracer (meson test --setup
# leaks); each fuzz target, sanitized test and leaks-traced test counts as one
# test in the closing line ("leaks: <name>"). See docs/security.md.
#
# With --package, or on CI, it last of all builds the Debian package and
# checks it installed (tools/check-package.sh: needs root or sudo, installs
# and removes gstreamer1.0-wmstream; the .deb files and the build log stay in
# build/package/). It counts as one test in the closing line. It runs after
# every other test, so the installed plugin never meets the build tree's.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
testlog=build/meson-logs/testlog.json
fuzz_results=build/fuzz/fuzz-results.txt
sanitize_results=build/sanitize/sanitize-results.txt
package_results=build/package/package-results.txt

security=false
package=false
if [[ "${CI:-}" == true ]]; then
    security=true
    package=true
fi
while (($# > 0)); do
    case "$1" in
    --security) security=true ;;
    --package) package=true ;;
    *) break ;;
    esac
    shift
done

build() {
    bash tools/install-deps.sh --tests || return
    if [[ ! -f build/build.ninja ]]; then
        if [[ -f build/meson-private/coredata.dat ]]; then
            meson setup --reconfigure build || return
        else
            meson setup build || return
        fi
    fi
    meson compile -C build
}

# Prints the summary line from the meson test log (and, with --security, the
# fuzz and sanitizer results, with --package the package check's); fails when
# a test failed or none ran. OK and EXPECTEDFAIL count as passed; FAIL,
# TIMEOUT, ERROR and UNEXPECTEDPASS as failed. A missing fuzz, sanitizer or
# package result file counts as one failure.
# Each failure is named on a "failed: …" line (a failed meson test with the
# last 40 lines of its output) just above the summary, so the end of a long
# CI log still says which test failed and how.
summarize() {
    python3 - "$testlog" "$security" "$fuzz_results" "$sanitize_results" \
        "$package" "$package_results" "${CI:-}" <<'PY'
import json
import pathlib
import sys

testlog, security, fuzz, sanitize, package, package_results, ci = sys.argv[1:]
passed = 0
skips = []  # names of the skipped tests
failures = []  # (what failed, the last lines of its output)
# The plain run's log, and with --security the leaks tracer's (meson test --setup leaks).
testlogs = [(testlog, "")]
if security == "true":
    testlogs.append((testlog.replace("testlog.json", "testlog-leaks.json"), "leaks: "))
for path, prefix in testlogs:
    if not pathlib.Path(path).exists():
        if prefix:
            failures.append((f"{prefix}no results ({path})", []))
        continue
    with open(path, encoding="utf-8") as log:
        for line in log:
            if not line.strip():
                continue
            test = json.loads(line)
            result, name = test.get("result"), prefix + test.get("name")
            if result in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif result == "SKIP":
                skips.append(name)
            else:
                tail = (test.get("stdout") or "").splitlines()[-40:]
                failures.append((f"{name} ({result})", tail))
# fuzz: "<target> PASS|FAIL <executions>"; sanitize and package: "PASS|FAIL|SKIP <test>"
results = []  # (file, column of the verdict, kind)
if security == "true":
    results += [(fuzz, 1, "fuzz"), (sanitize, 0, "sanitize")]
if package == "true":
    results.append((package_results, 0, "package"))
for path, column, kind in results:
    if not pathlib.Path(path).exists():
        failures.append((f"{kind}: no results ({path})", []))
        continue
    for line in pathlib.Path(path).read_text(encoding="utf-8").splitlines():
        fields = line.split()
        verdict = fields[column]
        if verdict == "PASS":
            passed += 1
        elif verdict == "SKIP":
            skips.append(f"{kind}: {fields[1 - column]}")
        else:
            failures.append((f"{kind}: {' '.join(fields[:2])}", []))
if ci == "true":
    # CI installs every peer: a test that did not run proves nothing.
    failures += [(f"{name} (SKIP: under CI a skip is a failure)", []) for name in skips]
    skips = []
for failure, tail in failures:
    print(f"failed: {failure}")
    for line in tail:
        print(f"    {line}")
failed = len(failures)
summary = f"{passed} passed, {failed} failed"
if skips:
    print(f"skipped: {', '.join(skips)}")
    summary += f", {len(skips)} skipped"
print(summary)
sys.exit(1 if failed or passed == 0 else 0)
PY
}

# "name seconds" of each phase, printed above the closing line (CI keeps the end of the output).
timings=()
phase_start=$SECONDS
phase_done() {
    timings+=("$1 $((SECONDS - phase_start)) s")
    phase_start=$SECONDS
}

rm -f "$testlog" "${testlog%.json}-leaks.json" "$fuzz_results" "$sanitize_results" "$package_results"
if build; then
    phase_done build
    meson test -C build --print-errorlogs "$@" || true
    phase_done tests
else
    echo "run-tests: the build failed; no test ran" >&2
fi
if [[ "$security" == true ]]; then
    FUZZ_SECONDS=${FUZZ_SECONDS:-30} bash fuzz/run-fuzzers.sh -b build/fuzz || true
    phase_done fuzz
    bash tools/sanitize-tests.sh -b build/sanitize || true
    phase_done sanitize
    # The element tests once more under the leaks tracer (tests/meson.build).
    meson test -C build --setup leaks --suite element --suite push --print-errorlogs || true
    phase_done leaks
fi
if [[ "$package" == true ]]; then
    verdict=FAIL
    if bash tools/check-package.sh -o build/package; then
        verdict=PASS
    fi
    mkdir -p build/package
    echo "$verdict check-package" >"$package_results"
    phase_done package
fi
(IFS=,; echo "run-tests: phases: ${timings[*]} (${SECONDS} s in all)")
summarize
