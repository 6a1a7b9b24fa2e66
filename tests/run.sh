#!/usr/bin/env bash
# The whole test suite from nothing: set up the machine, build (clang,
# ASan+UBSan, warnings as errors, fuzz targets; and a gcc Release build with
# warnings as errors), run every test. Exit non-zero when any test fails.
# Usage (as root): tests/run.sh [ctest args, e.g. -L unit or -R geo]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

bash firmware/setup.sh

jobs=$(nproc)
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DEGW_WERROR=ON >/dev/null
cmake --build build/release -j "$jobs"

CC=clang cmake -S . -B build/sanitize -DCMAKE_BUILD_TYPE=Sanitize \
    -DEGW_WERROR=ON -DEGW_FUZZ=ON >/dev/null
cmake --build build/sanitize -j "$jobs"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir build/sanitize --output-on-failure --timeout 900 "$@"
