#!/usr/bin/env bash
# Runs the whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer
# (with LeakSanitizer) in a second meson build dir. See docs/security.md.
#
#   tools/sanitize-tests.sh [-b BUILD_DIR] [MESON TEST ARGS]
#
#   -b BUILD_DIR  meson build dir (default build/sanitize), configured with
#                 gcc, -Db_sanitize=address,undefined
#
# A test fails when it fails, or when a sanitizer report (ASan, LSan, UBSan)
# appears in its output, or in that of a process it started, even if the test
# passed. LSan suppressions (tests/lsan.supp) cover GLib/GStreamer and GSSAPI internals
# only. Prints "sanitize: N passed, N failed" and writes one line per test,
# "PASS|FAIL|SKIP <name>", to BUILD_DIR/sanitize-results.txt. Exits non-zero
# when a test failed, none passed, or the build failed.
#
# How the suite is run, and why:
#   -fno-sanitize=vptr     UBSan validates a vtable through a pipe; with every
#                          descriptor taken (test-server's fd-exhaustion case)
#                          each shared_ptr release is reported as an invalid
#                          vptr, a false positive.
#   -Wno-maybe-uninitialized  GCC 12 warns wrongly on ASan-instrumented code.
#   intercept_tls_get_addr=0  LSan's tracking of dynamic TLS (GCC 12 libasan,
#                          and clang 14's, with glibc 2.36) makes its tracer
#                          crash now and then ("Tracer caught signal 11") once
#                          GnuTLS threads ran (the TLS tests).
#   GST_REGISTRY, GST_REGISTRY_FORK=no  a private registry, made first by
#                          the uninstrumented gst-inspect-1.0 for the system
#                          plugins; the instrumented plugin is then loaded in
#                          the (instrumented) test process, as the plugin
#                          scanner cannot load it.
#   --no-suite examples    Python programs, which cannot load an instrumented
#                          plugin (see below).
#   fast_unwind_on_malloc=0  full allocation stacks through GLib (built
#                          without frame pointers), so that suppressions match
#                          GLib's frames and not just g_malloc.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=build/sanitize
if [[ "${1:-}" == -b ]]; then
    build=${2:?-b needs a directory}
    shift 2
fi
cd "$root"
[[ "$build" = /* ]] || build=$root/$build
results=$build/sanitize-results.txt

build_suite() {
    bash tools/install-deps.sh --tests || return
    if [[ ! -f "$build/build.ninja" ]]; then
        rm -rf "$build"
        CC=gcc CXX=g++ meson setup "$build" -Db_sanitize=address,undefined \
            -Dcpp_args="-Wno-maybe-uninitialized -fno-sanitize=vptr" || return
    fi
    meson compile -C "$build"
}

mkdir -p "$build"
rm -f "$results" "$build/meson-logs/testlog.json"
if ! build_suite; then
    echo "sanitize-tests: the build failed; no test ran" >&2
    echo "FAIL build" >"$results"
    echo "sanitize: 0 passed, 1 failed"
    exit 1
fi

export GST_REGISTRY=$build/gst-registry.bin
env -u GST_PLUGIN_PATH -u GST_PLUGIN_PATH_1_0 gst-inspect-1.0 >/dev/null 2>&1 || true
export GST_REGISTRY_FORK=no
# GstCheck's per-test limits (CK_DEFAULT_TIMEOUT, tcase_set_timeout) scale like meson's.
export CK_TIMEOUT_MULTIPLIER=3
export ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0:intercept_tls_get_addr=0
export LSAN_OPTIONS=suppressions=$root/tests/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

# Not the examples suite: its Python programs load the instrumented plugin into an
# uninstrumented python3 (ASan must come first in a process); the examples run in the
# plain run.
meson test -C "$build" --print-errorlogs --timeout-multiplier 3 --no-suite examples "$@" || true

python3 - "$build/meson-logs/testlog.json" "$results" <<'PY'
import json
import pathlib
import re
import sys

REPORT = re.compile(
    r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error: |Sanitizer has encountered a fatal error"
)
log = pathlib.Path(sys.argv[1])
lines = []
counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
if log.exists():
    for line in log.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        test = json.loads(line)
        output = test.get("stdout", "") + test.get("stderr", "")
        result = test.get("result")
        if result == "SKIP":
            verdict = "SKIP"
        elif result in ("OK", "EXPECTEDFAIL") and not REPORT.search(output):
            verdict = "PASS"
        else:
            verdict = "FAIL"
            if result in ("OK", "EXPECTEDFAIL"):
                print(f"sanitize-tests: {test['name']} passed but printed a sanitizer report:",
                      file=sys.stderr)
                print(output[-6000:], file=sys.stderr)
        counts[verdict] += 1
        lines.append(f"{verdict} {test['name']}\n")
pathlib.Path(sys.argv[2]).write_text("".join(lines), encoding="utf-8")
summary = f"sanitize: {counts['PASS']} passed, {counts['FAIL']} failed"
if counts["SKIP"]:
    summary += f", {counts['SKIP']} skipped"
print(summary)
sys.exit(1 if counts["FAIL"] or counts["PASS"] == 0 else 0)
PY
