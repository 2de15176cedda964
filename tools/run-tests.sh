#!/usr/bin/env bash
# Builds wmstream and runs every test (unit, element, interop) with meson.
#
#   tools/run-tests.sh [MESON TEST ARGS]    e.g. --suite unit, or a test name
#
# Installs what is missing (tools/install-deps.sh --tests), configures build/
# once, builds, runs `meson test -C build --print-errorlogs`, and always ends
# with one line "N passed, N failed" (plus ", N skipped" when tests skipped),
# counted from build/meson-logs/testlog.json. Exits non-zero when a test
# failed, when no test passed (none ran, or all skipped), or when the build
# failed.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
testlog=build/meson-logs/testlog.json

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

# Prints the summary line from the meson test log; fails when a test failed or
# none ran. OK and EXPECTEDFAIL count as passed; FAIL, TIMEOUT, ERROR and
# UNEXPECTEDPASS as failed.
summarize() {
    if [[ ! -f "$testlog" ]]; then
        echo "0 passed, 0 failed"
        return 1
    fi
    python3 - "$testlog" <<'PY'
import json
import sys

passed = failed = skipped = 0
with open(sys.argv[1], encoding="utf-8") as log:
    for line in log:
        if not line.strip():
            continue
        result = json.loads(line).get("result")
        if result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif result == "SKIP":
            skipped += 1
        else:
            failed += 1
summary = f"{passed} passed, {failed} failed"
if skipped:
    summary += f", {skipped} skipped"
print(summary)
sys.exit(1 if failed or passed == 0 else 0)
PY
}

rm -f "$testlog"
if build; then
    meson test -C build --print-errorlogs "$@" || true
else
    echo "run-tests: the build failed; no test ran" >&2
fi
summarize
