"""Check the built HTML documentation for missing pages.

    python scripts/check_docs.py [HTML_DIR]      (default: docs/_build/html)

Run from the repository root after
``python -m sphinx -W --keep-going -b html docs docs/_build/html``. Checks that

- every ``examples/plot_*.py`` has its gallery page,
  ``auto_examples/plot_*.html``;
- every public name of ``mlpx.__all__`` is documented: some page of the API
  reference holds its anchor (``id="mlpx.NAME"``), as autodoc writes it;
- the same for ``mlpx.landscape.__all__`` (``id="mlpx.landscape.NAME"``), if
  ``mlpx.landscape`` imports.

Dunder names (``__version__``) are not API pages and are skipped. Exits 1 if
anything is missing, 2 if the HTML directory does not exist.
"""

import argparse
import importlib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ANCHOR = re.compile(r'id="(mlpx\.[A-Za-z0-9_.]+)"')


def documented_anchors(html_dir):
    """{anchor id: page} over the API pages (and every other page)."""
    anchors = {}
    for page in sorted(html_dir.rglob("*.html")):
        rel = page.relative_to(html_dir).as_posix()
        if rel.startswith(("_modules/", "_sources/")):  # viewcode, not API pages
            continue
        for anchor in ANCHOR.findall(page.read_text(encoding="utf-8", errors="replace")):
            anchors.setdefault(anchor, rel)
    return anchors


def check_gallery(html_dir):
    missing = []
    examples = sorted((ROOT / "examples").glob("plot_*.py"))
    print(f"Gallery: {len(examples)} example(s) in examples/")
    for example in examples:
        page = html_dir / "auto_examples" / f"{example.stem}.html"
        if page.is_file():
            text = page.read_text(encoding="utf-8", errors="replace")
            figures = len(re.findall(r'"sphx-glr-(?:single|multi)-img"', text))
            print(f"  ok       {example.name} -> {page.relative_to(html_dir)}"
                  f" ({figures} figure(s))")
        else:
            print(f"  MISSING  {example.name}: no {page.relative_to(html_dir)}")
            missing.append(example.name)
    return missing


def check_api(module_name, anchors):
    module = importlib.import_module(module_name)
    names = [n for n in getattr(module, "__all__", []) if not n.startswith("_")]
    print(f"API: {len(names)} public name(s) in {module_name}.__all__")
    missing = []
    for name in names:
        anchor = f"{module_name}.{name}"
        if anchor in anchors:
            print(f"  ok       {anchor} -> {anchors[anchor]}")
        else:
            print(f"  MISSING  {anchor}: no page documents it")
            missing.append(anchor)
    return missing


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html_dir", nargs="?", default=str(ROOT / "docs/_build/html"))
    args = parser.parse_args(argv)
    html_dir = Path(args.html_dir).resolve()
    if not (html_dir / "index.html").is_file():
        print(f"check_docs: no built HTML in {html_dir} (build the docs first)")
        return 2

    missing = check_gallery(html_dir)
    anchors = documented_anchors(html_dir)
    missing += check_api("mlpx", anchors)
    try:
        importlib.import_module("mlpx.landscape")
    except ImportError as exc:
        print(f"API: mlpx.landscape does not import ({exc}); not checked")
    else:
        missing += check_api("mlpx.landscape", anchors)

    if missing:
        print(f"\nFAILED: {len(missing)} page(s) missing: {', '.join(missing)}")
        return 1
    print("\nOK: every example has a gallery page and every public name an API page")
    return 0


if __name__ == "__main__":
    sys.exit(main())
