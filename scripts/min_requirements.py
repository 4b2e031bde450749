"""Print pyproject.toml's requirements, for the minimum-versions CI job.

``runtime``: the dependencies and the ``test`` extra; ``build``: the build
requirements. The job installs them with uv's lowest resolution, so each
direct requirement gets its declared floor (or the oldest release above it).

    python scripts/min_requirements.py runtime
    python scripts/min_requirements.py build
"""

import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

PYPROJECT = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())


def main(which):
    if which == "runtime":
        reqs = PYPROJECT["project"]["dependencies"]
        reqs += PYPROJECT["project"]["optional-dependencies"]["test"]
    elif which == "build":
        reqs = PYPROJECT["build-system"]["requires"]
    else:
        raise SystemExit("usage: min_requirements.py runtime|build")
    print("\n".join(reqs))


if __name__ == "__main__":
    main(*sys.argv[1:])
