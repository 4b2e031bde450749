"""Packaging metadata, and the documents that repeat it, against pyproject.toml.

The installed metadata is checked wherever the tests run; the source-tree
documents (docs/install.rst, CITATION.cff, CONTRIBUTING.md, LICENSE) only in a
checkout: these tests skip where only the tests were copied (the wheel tests).
"""

import re
import sys
from importlib.metadata import metadata
from pathlib import Path

import pytest
import yaml

import mlpx

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def source_file(relative):
    path = ROOT / relative
    if not path.is_file():
        pytest.skip(f"{relative} is not there (only the tests were copied)")
    return path


@pytest.fixture(scope="module")
def pyproject():
    return tomllib.loads(source_file("pyproject.toml").read_text(encoding="utf-8"))


def rst_list_table(text, label):
    """Rows (lists of cell texts) of the first list-table after ``.. _label:``."""
    start = text.index(f".. _{label}:")
    table = text.index(".. list-table::", start)
    rows = []
    for line in text[table:].splitlines()[1:]:
        if line and not line.startswith(" "):
            break  # back at the left margin: the table has ended
        if m := re.match(r"   \* - (.*)", line):
            rows.append([m.group(1)])
        elif m := re.match(r"     - (.*)", line):
            rows[-1].append(m.group(1))
        elif line.strip() and rows:
            rows[-1][-1] += " " + line.strip()
    return rows


def test_the_extras_table_of_the_install_page_matches_pyproject(pyproject):
    text = source_file("docs/install.rst").read_text(encoding="utf-8")
    header, *rows = rst_list_table(text, "extras")
    assert header == ["Extra", "Installs", "For"]
    table = {}
    for name, installs, purpose in rows:
        extra = re.fullmatch(r"``([\w-]+)``", name)
        assert extra, f"not an extra name: {name!r}"
        assert purpose.strip(), f"the extra {name} says nothing of what it is for"
        table[extra.group(1)] = re.findall(r"``([^`]+)``", installs)
    assert table == pyproject["project"]["optional-dependencies"]


def test_the_build_requirements_in_the_docs_match_pyproject(pyproject):
    required = set(pyproject["build-system"]["requires"])
    for document in ("docs/install.rst", "CONTRIBUTING.md"):
        text = source_file(document).read_text(encoding="utf-8")
        commands = [line for line in text.splitlines() if 'pip install "setuptools' in line]
        assert commands, f"{document} does not say how to install the build requirements"
        for command in commands:
            assert set(re.findall(r'"([^"]+)"', command)) == required, (document, command)


def test_license_file_and_its_metadata(pyproject):
    project = pyproject["project"]
    assert project["license"] == "BSD-3-Clause"
    assert project["license-files"] == ["LICENSE"]
    text = source_file("LICENSE").read_text(encoding="utf-8")
    assert text.startswith("BSD 3-Clause License\n")
    assert "Copyright (c) 2026, The mlpx developers" in text


def test_installed_metadata_has_license_file_classifiers_and_keywords():
    meta = metadata("mlpx")
    assert meta["License-Expression"] == "BSD-3-Clause"
    assert "LICENSE" in meta.get_all("License-File")
    classifiers = meta.get_all("Classifier")
    assert "Typing :: Typed" in classifiers
    assert "Programming Language :: Python :: 3.10" in classifiers
    assert any(c.startswith("Development Status ::") for c in classifiers)
    assert any(c.startswith("Operating System ::") for c in classifiers)
    assert "loss landscape" in meta["Keywords"]
    assert (Path(mlpx.__file__).parent / "py.typed").is_file()  # what Typing :: Typed says


def test_python_classifiers_are_the_versions_the_wheels_are_built_for(pyproject):
    classifiers = pyproject["project"]["classifiers"]
    declared = {c.rsplit(" ", 1)[1] for c in classifiers
                if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)}
    built = {f"3.{p[3:-2]}" for p in pyproject["tool"]["cibuildwheel"]["build"]}
    assert declared == built
    oldest = min(built, key=lambda v: int(v.split(".")[1]))
    assert pyproject["project"]["requires-python"] == f">={oldest}"


def test_citation_file_matches_the_package(pyproject):
    citation = yaml.safe_load(source_file("CITATION.cff").read_text(encoding="utf-8"))
    assert citation["cff-version"] == "1.2.0"
    assert citation["type"] == "software"
    assert citation["version"] == mlpx.__version__
    assert citation["license"] == pyproject["project"]["license"]
    assert citation["authors"] == [{"name": pyproject["project"]["authors"][0]["name"]}]
    assert citation["title"].startswith("mlpx: ")
