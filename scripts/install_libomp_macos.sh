#!/usr/bin/env bash
# Install a pinned LLVM OpenMP runtime (libomp) for building the macOS wheels.
#
#   bash scripts/install_libomp_macos.sh [PREFIX]     (default PREFIX: /tmp/mlpx-libomp)
#
# Apple clang compiles OpenMP (-Xpreprocessor -fopenmp) but ships no runtime.
# We take conda-forge's llvm-openmp 11.1.0, pinned by exact build and sha256:
# it is built for macOS 10.9 (x86_64) and 11.0 (arm64), below the deployment
# targets in [tool.cibuildwheel] of pyproject.toml, so the libomp.dylib that
# delocate copies into the wheel runs wherever the wheel installs. (A Homebrew
# bottle would be built for the runner's macOS and raise the wheels' minimum.)
#
# Run by cibuildwheel as `before-all` on macOS; the native architecture of the
# machine decides which package is installed (no cross-compilation).
set -euo pipefail

PREFIX="${1:-/tmp/mlpx-libomp}"
VERSION="11.1.0"

case "$(uname -m)" in
    arm64)
        SUBDIR="osx-arm64"
        BUILD="hf3c4609_1"
        SHA256="29763e493e46801c416f2e75f20e9183719bde3b727d8983b1917a480b4076fe"
        ;;
    x86_64)
        SUBDIR="osx-64"
        BUILD="hda6cdc1_1"
        SHA256="1ebfeee2af90bcedf6b39c7290244e2aec0bda01ecf81b0d8d78ed405480c21c"
        ;;
    *)
        echo "install_libomp_macos.sh: unsupported machine $(uname -m)" >&2
        exit 2
        ;;
esac

PACKAGE="llvm-openmp-${VERSION}-${BUILD}.tar.bz2"
URL="https://conda.anaconda.org/conda-forge/${SUBDIR}/${PACKAGE}"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "Downloading $URL"
curl -fsSL --retry 3 -o "$tmp/$PACKAGE" "$URL"
echo "$SHA256  $tmp/$PACKAGE" | shasum -a 256 -c -

rm -rf "$PREFIX"
mkdir -p "$PREFIX"
tar -xjf "$tmp/$PACKAGE" -C "$PREFIX"

lib="$PREFIX/lib/libomp.dylib"
test -f "$PREFIX/include/omp.h"
test -f "$lib"

# conda's install name is @rpath/libomp.dylib. Give it its absolute path so that
# the OpenMP probe in setup.py (a test program linked without an rpath) runs;
# delocate rewrites the reference to the copy inside the wheel anyway.
install_name_tool -id "$lib" "$lib"
# install_name_tool invalidates the (ad-hoc) signature; arm64 refuses to load
# unsigned code, so sign it again.
codesign --force --sign - "$lib"

echo "libomp $VERSION ($SUBDIR/$BUILD) installed in $PREFIX:"
otool -L "$lib" | head -n 2
otool -l "$lib" | grep -A4 -E 'LC_BUILD_VERSION|LC_VERSION_MIN_MACOSX' | grep -E 'minos|version' || true
