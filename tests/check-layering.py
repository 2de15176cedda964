#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The layering of lib/ (issue 12, docs/architecture.md), checked from the sources.

    tests/check-layering.py LIBDIR

Two checks, each printing what it finds as FILE:LINE (or FILE) and a reason:
  includes    every #include "folder/…" in LIBDIR/**/*.{h,cpp} names a folder its own folder
              may include (ALLOWED below): dependencies run one way, none runs back up;
  cpp-length  no LIBDIR/**/*.cpp is longer than MAX_CPP_LINES lines.
Exit status 0 when both find nothing, 1 otherwise, 2 on a usage error.
"""

import pathlib
import re
import sys

# What each lib/ folder may include besides itself.
ALLOWED = {
    "base": set(),
    "proto": {"base"},
    "server": {"proto", "base"},
    "push": {"proto", "base"},
    "pull": {"proto", "base"},
    "reach": {"base"},
    "broadcast": {"server", "reach", "proto", "base"},
}

MAX_CPP_LINES = 800

INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')


def sources(lib, suffixes):
    return sorted(p for p in lib.rglob("*") if p.suffix in suffixes and p.is_file())


def check_includes(lib):
    """Every include against the allowed direction, as 'FILE:LINE: reason'."""
    problems = []
    for path in sources(lib, {".h", ".cpp"}):
        name = path.relative_to(lib.parent)
        parts = path.relative_to(lib).parts
        folder = parts[0] if len(parts) > 1 else None
        if folder not in ALLOWED:
            problems.append(f"{name}: folder {folder or 'lib/ itself'} is not in ALLOWED")
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            match = INCLUDE.match(line)
            if not match:
                continue
            head, slash, _ = match.group(1).partition("/")
            target = head if slash else None
            if target != folder and target not in ALLOWED[folder]:
                may = ", ".join(sorted(ALLOWED[folder])) or "nothing else in lib"
                problems.append(f'{name}:{number}: includes "{match.group(1)}"; '
                                f"{folder}/ may include {folder}/ and {may}")
    return problems


def check_cpp_length(lib):
    """Every .cpp over MAX_CPP_LINES, as 'FILE: N lines'."""
    problems = []
    for path in sources(lib, {".cpp"}):
        lines = len(path.read_text(errors="replace").splitlines())
        if lines > MAX_CPP_LINES:
            problems.append(f"{path.relative_to(lib.parent)}: {lines} lines "
                            f"(limit {MAX_CPP_LINES})")
    return problems


def main():
    if len(sys.argv) != 2 or not pathlib.Path(sys.argv[1]).is_dir():
        print(__doc__, file=sys.stderr)
        return 2
    lib = pathlib.Path(sys.argv[1]).resolve()
    failed = False
    for check, run in (("includes", check_includes), ("cpp-length", check_cpp_length)):
        problems = run(lib)
        print(f"{check}: {'FAIL' if problems else 'ok'}")
        for problem in problems:
            print(f"  {problem}")
        failed = failed or bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
