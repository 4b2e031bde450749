#!/usr/bin/env bash
# Build mlpx with AddressSanitizer + UndefinedBehaviorSanitizer (MLPX_SANITIZE=1)
# in a throwaway copy and virtualenv, and run the test suite under them.
# Any sanitizer report aborts the run (halt_on_error) and fails the script.
#
#   bash scripts/sanitize.sh [pytest args]      (default: the whole suite)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${MLPX_SANITIZE_DIR:-$(mktemp -d /tmp/mlpx-sanitize.XXXXXX)}
echo "sanitizer build in $work"
mkdir -p "$work/src"
git -C "$root" ls-files -z | (cd "$root" && xargs -0 cp --parents -t "$work/src")
python3 -m venv "$work/venv"
# shellcheck disable=SC1091
. "$work/venv/bin/activate"
pip install -q --upgrade pip "setuptools>=77" "Cython>=3.1" numpy scipy
cd "$work/src"
MLPX_SANITIZE=1 pip install -q --no-build-isolation -e ".[test]"

# ASan must be the first library loaded, before Python's own allocator runs;
# libstdc++ right after it, so that ASan's interceptor of C++ exceptions finds
# the runtime it wraps (without it, the first C++ exception, e.g. in
# matplotlib's ft2font, aborts the process).
export LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libstdc++.so)"
# CPython keeps interned objects alive at exit: leak reports there are noise.
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
python -c "import mlpx._core._engine; print(\"engine loaded under ASan\")"
# Resident memory means nothing under ASan, whose quarantine keeps freed blocks
# (scripts/memory_growth.py measures growth on a normal build).
python -m pytest -q -p no:cacheprovider "${@:-tests}" \
    --deselect tests/estimators/test_reliability.py::test_repeated_fit_and_predict_do_not_grow_memory
echo "sanitizers: no report"
