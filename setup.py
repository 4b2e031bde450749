"""Build the compiled engine of mlpx.

Everything that pyproject.toml can say lives there; this file only declares the
Cython extensions and finds the OpenMP flags of the compiler in use.

Environment switches
--------------------
MLPX_NO_OPENMP=1
    Build without OpenMP (serial engine). Without it, a compiler that cannot
    build an OpenMP program is a hard error.
MLPX_SANITIZE=1
    Build with AddressSanitizer and UndefinedBehaviorSanitizer (gcc/clang), for
    the memory-safety run described in the README.
MLPX_BUILD_JOBS=N
    Compile at most N extensions at once (default: one per CPU; `build_ext -j`
    takes precedence).
"""

import glob
import os
import subprocess
import sys
import tempfile
import textwrap

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

# The engine (_engine) and its entry points; _types holds the codes Python imports.
MODULES = ["_types", "_engine", "_predict", "_gradient", "_train", "_hessian", "_checks",
           "_openmp", "_testing", "_surface"]
SHARED_UTILITY = "mlpx._core._cyutility"

OPENMP_TEST = textwrap.dedent(
    """
    #include <omp.h>
    #include <stdio.h>
    int main(void) {
        int n = 0;
        #pragma omp parallel reduction(+:n)
        n += 1;
        printf("%d", n > 0 && omp_get_max_threads() > 0);
        return 0;
    }
    """
)


def _openmp_flags(compiler):
    """Return (compile_args, link_args) for OpenMP with this compiler."""
    if compiler.compiler_type == "msvc":
        return ["/openmp"], []
    if sys.platform == "darwin":
        # Apple clang has no -fopenmp driver flag; libomp comes from Homebrew
        # or from the wheel build (see [tool.cibuildwheel] in pyproject.toml).
        return ["-Xpreprocessor", "-fopenmp"], ["-lomp"]
    return ["-fopenmp"], ["-fopenmp"]


def _can_build_openmp(compiler, cflags, ldflags):
    """Compile, link and run a small OpenMP program."""
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "test_openmp.c")
        with open(src, "w") as f:
            f.write(OPENMP_TEST)
        try:
            objs = compiler.compile([src], output_dir=tmp, extra_postargs=cflags)
            exe = os.path.join(tmp, "test_openmp")
            compiler.link_executable(objs, exe, extra_postargs=ldflags)
            out = subprocess.run([exe], capture_output=True, text=True, check=True)
        except Exception as exc:  # any failure means: no usable OpenMP
            print(f"mlpx: OpenMP test program failed: {exc}")
            return False
        return out.stdout.strip() == "1"


class BuildExt(build_ext):
    """build_ext that adds the OpenMP and sanitizer flags found at build time."""

    def finalize_options(self):
        super().finalize_options()
        if self.parallel is None:
            # The extensions are independent: compile them side by side unless
            # `build_ext -j N` or MLPX_BUILD_JOBS says otherwise.
            jobs = os.environ.get("MLPX_BUILD_JOBS", "")
            self.parallel = int(jobs) if jobs.strip() else (os.cpu_count() or 1)

    def build_extensions(self):
        cflags, ldflags = [], []
        if os.environ.get("MLPX_NO_OPENMP", "0") == "1":
            print("mlpx: MLPX_NO_OPENMP=1, building the serial engine")
        else:
            cflags, ldflags = _openmp_flags(self.compiler)
            if not _can_build_openmp(self.compiler, cflags, ldflags):
                raise RuntimeError(
                    "mlpx needs a compiler with OpenMP support and none was found "
                    f"(tried {cflags} with {self.compiler.compiler_type}). Install "
                    "one (gcc, or clang with libomp), or set MLPX_NO_OPENMP=1 to "
                    "build a serial engine."
                )
        if self.compiler.compiler_type != "msvc":
            # errno is never read: without it sqrt can be vectorised
            cflags = cflags + ["-O3", "-fno-math-errno", "-Wno-unreachable-code",
                               "-Wno-unused-function"]
        if os.environ.get("MLPX_SANITIZE", "0") == "1":
            san = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-g"]
            cflags, ldflags = cflags + san + ["-O1"], ldflags + san
        for ext in self.extensions:
            ext.extra_compile_args = list(ext.extra_compile_args) + cflags
            ext.extra_link_args = list(ext.extra_link_args) + ldflags
        super().build_extensions()


def _extensions():
    macros = [("NPY_NO_DEPRECATED_API", "NPY_1_9_API_VERSION")]
    exts = [
        Extension(
            f"mlpx._core.{name}",
            [f"mlpx/_core/{name}.pyx"],
            include_dirs=[np.get_include(), "mlpx/_core"],
            define_macros=macros,
            depends=sorted(glob.glob("mlpx/_core/*.h") + glob.glob("mlpx/_core/*.pxd")),
        )
        for name in MODULES
    ]
    # Cython's own helpers (memoryviews, fused-type dispatch...) compiled once,
    # into a module the others import, instead of once into every module.
    exts.append(Extension(SHARED_UTILITY, ["mlpx/_core/_cyutility.c"]))
    directives = {
        "language_level": 3,
        "boundscheck": False,
        "wraparound": False,
        "cdivision": True,
        "initializedcheck": False,
        "nonecheck": False,
        "embedsignature": True,
    }
    if os.environ.get("MLPX_SANITIZE", "0") == "1":
        directives.update(boundscheck=True, initializedcheck=True)
    return cythonize(exts, compiler_directives=directives,
                     shared_utility_qualified_name=SHARED_UTILITY)


setup(ext_modules=_extensions(), cmdclass={"build_ext": BuildExt})
