"""Sphinx configuration of the mlpx documentation.

Build (from the repository root, with the ``docs`` requirements installed)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

or ``make -C docs html``. Environment switches:

MLPX_DOCS_PLOT_GALLERY=0
    Do not run the gallery examples (fast build; pages without figures).
MLPX_DOCS_EXAMPLES=REGEX
    Run only the examples whose path matches REGEX (default: every
    ``examples/plot_*.py``).
"""

import logging
import os
import re
import shutil
import sys
import warnings
from pathlib import Path

import mlpx

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent

# -- Project -----------------------------------------------------------------
project = "mlpx"
author = "The mlpx developers"
copyright = "The mlpx developers"
release = mlpx.__version__
version = re.sub(r"(\d+\.\d+).*", r"\1", release)

# -- General -----------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
templates_path = ["_templates"]
exclude_patterns = ["_build", "_gallery_src", "gallery_header.rst", "Thumbs.db", ".DS_Store"]
root_doc = "index"
default_role = "literal"

autosummary_generate = True
# numpydoc renders Parameters / Attributes; the methods are listed by our
# autosummary class template (docs/_templates/autosummary/class.rst).
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# -- HTML --------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"mlpx {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_show_sourcelink = False

# -- Gallery -----------------------------------------------------------------
# The gallery is built from examples/plot_*.py. Several people write examples
# there, so the gallery is fed from a staging directory that conf.py fills on
# each build with whatever examples/plot_*.py exist (none is hard-coded), plus
# a header: examples/GALLERY_HEADER.rst or examples/README.txt if present, else
# docs/gallery_header.rst. A missing examples/ directory gives an empty gallery.
EXAMPLES = ROOT / "examples"
GALLERY_SRC = DOCS / "_gallery_src"


def _stage_examples():
    if GALLERY_SRC.exists():
        shutil.rmtree(GALLERY_SRC)
    GALLERY_SRC.mkdir()
    header = next(
        (p for p in (EXAMPLES / "GALLERY_HEADER.rst", EXAMPLES / "README.txt",
                     EXAMPLES / "README.rst") if p.is_file()),
        DOCS / "gallery_header.rst",
    )
    shutil.copy(header, GALLERY_SRC / "GALLERY_HEADER.rst")
    for example in sorted(EXAMPLES.glob("plot_*.py")):
        shutil.copy(example, GALLERY_SRC / example.name)


_stage_examples()

sphinx_gallery_conf = {
    "examples_dirs": str(GALLERY_SRC),
    "gallery_dirs": "auto_examples",
    "filename_pattern": os.environ.get("MLPX_DOCS_EXAMPLES", r"/plot_"),
    "plot_gallery": os.environ.get("MLPX_DOCS_PLOT_GALLERY", "1") != "0",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "matplotlib_animations": False,
    "show_memory": False,
    "min_reported_time": 1,
    # "Examples using X" on the API pages (the minigallery in the templates).
    "doc_module": ("mlpx",),
    "backreferences_dir": "generated/backreferences",
}

# The landing page (index.rst) shows the first figure of these examples. A build
# that does not run them (MLPX_DOCS_PLOT_GALLERY=0, MLPX_DOCS_EXAMPLES) puts
# sphinx-gallery's "no image" picture in their place, so it stays warning-free.
LANDING_FIGURES = ("plot_quickstart", "plot_agreement_study")


def _landing_figures(app):
    import sphinx_gallery

    placeholder = Path(sphinx_gallery.__file__).parent / "_static" / "no_image.png"
    images = DOCS / "auto_examples" / "images"
    for name in LANDING_FIGURES:
        figure = images / f"sphx_glr_{name}_001.png"
        if not figure.exists():
            images.mkdir(parents=True, exist_ok=True)
            shutil.copy(placeholder, figure)


# Examples run under the Agg backend; silence matplotlib's non-GUI warning.
warnings.filterwarnings(
    "ignore", category=UserWarning, message="Matplotlib is currently using agg"
)


# -- Warnings of the docs tools are errors ------------------------------------
# `sphinx -W` fails on Sphinx's own warnings only. Two other kinds would pass
# unseen: Python warnings raised while the docs build (a deprecated API used by
# an extension, a deprecated option of ours) and notices that an extension logs
# at info level (sphinx-gallery announces a deprecated option that way). Both
# become Sphinx warnings, which -W turns into a failed build. The gallery
# examples are not affected: sphinx-gallery shows their warnings in their output.
_DEPRECATION_NOTICE = re.compile(r"\bdeprecat", re.IGNORECASE)


def _python_warning_to_sphinx(message, category, filename, lineno, file=None, line=None):
    from sphinx.util import logging as sphinx_logging

    sphinx_logging.getLogger("mlpx.docs").warning(
        "%s: %s (%s:%s)", category.__name__, message, filename, lineno,
        type="python", subtype=category.__name__,
    )


class _PromoteDeprecationNotices(logging.Filter):
    """Re-log an extension's info-level deprecation notice as a Sphinx warning."""

    def filter(self, record):
        if not _DEPRECATION_NOTICE.search(record.getMessage()):
            return True
        if getattr(record, "mlpx_promoted", False):  # seen by another info handler
            return False
        record.mlpx_promoted = True
        from sphinx.util import logging as sphinx_logging

        sphinx_logging.getLogger("mlpx.docs").warning(
            "%s (logged at info level by %s)", record.getMessage(), record.name,
            type="deprecation", subtype=record.name,
        )
        return False


def _treat_tool_warnings_as_errors(app):
    for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
        warnings.simplefilter("default", category)
    warnings.showwarning = _python_warning_to_sphinx
    from sphinx.util.logging import InfoFilter

    for handler in logging.getLogger("sphinx").handlers:
        if any(isinstance(f, InfoFilter) for f in handler.filters):  # info, not warnings
            handler.addFilter(_PromoteDeprecationNotices())


# -- Docstrings: plain text that reStructuredText would read as markup ---------
# The docstrings are written for help() as much as for Sphinx, so they hold text
# such as "|B|" (a batch size) or "(n_features_in_,)" that rST takes for a
# substitution or a hyperlink reference. Escape these two patterns -- outside
# literals, roles, emphasis, doctests and literal blocks -- after numpydoc has
# turned the sections into rST.
_PROTECTED = re.compile(r"(``.+?``|(?::[\w:.-]+:)?`[^`]+`_{0,2}|\*\*.+?\*\*|\*[^*\s][^*]*\*)")
_SUBSTITUTION = re.compile(r"(?<![\w\\|])\|(\w+)\|(?![\w|])")
_TRAILING_UNDERSCORE = re.compile(r"(?<![\w\\])([A-Za-z]\w*?)_(?=[\s,.;:)\]]|$)")


def _escape_plain_text(text):
    parts = _PROTECTED.split(text)
    for i in range(0, len(parts), 2):  # even indices: outside protected spans
        parts[i] = _SUBSTITUTION.sub(r"\\|\1\\|", parts[i])
        parts[i] = _TRAILING_UNDERSCORE.sub(r"\1\\_", parts[i])
    return "".join(parts)


def _escape_docstring(app, what, name, obj, options, lines):
    literal_indent = None  # indentation of the paragraph that opened a "::" block
    in_doctest = False
    for k, line in enumerate(lines):
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if literal_indent is not None:
            if stripped and indent <= literal_indent:
                literal_indent = None
            else:
                continue
        if stripped.startswith(">>>"):
            in_doctest = True
        if in_doctest:
            in_doctest = bool(stripped)  # a doctest block ends at a blank line
            continue
        if stripped.startswith(".. ") or (stripped.startswith(":") and stripped.endswith(":")):
            continue  # directives and field names
        lines[k] = _escape_plain_text(line)
        if stripped.endswith("::"):
            literal_indent = indent


# -- Docstrings: data re-exported from a private module ------------------------
# autodoc reads the "#:" doc comment of a module-level constant from the module
# it documents (mlpx), but mlpx re-exports constants defined in private modules
# (mlpx._multilayer_perceptron.SKOPS_TRUSTED_TYPES): it would print the
# docstring of the value's type ("Built-in mutable sequence"). Take the doc
# comment from the module that defines the constant instead.
def _reexported_data_doc(app, what, name, obj, options, lines):
    if what not in ("data", "attribute") or "." not in name:
        return
    from sphinx.pycode import ModuleAnalyzer

    package, _, attr = name.rpartition(".")
    for modname in sorted(m for m in list(sys.modules) if m.startswith(package + "._")):
        if getattr(sys.modules[modname], attr, None) is not obj:
            continue
        try:
            docs = ModuleAnalyzer.for_module(modname).find_attr_docs().get(("", attr))
        except Exception:  # no source (compiled module): nothing to take
            continue
        if docs:
            lines[:] = list(docs)
            return


def setup(app):
    _treat_tool_warnings_as_errors(app)
    # After sphinx-gallery has run the examples (also on builder-inited).
    app.connect("builder-inited", _landing_figures, priority=600)
    # Before numpydoc (priority 500) and the escaping below.
    app.connect("autodoc-process-docstring", _reexported_data_doc, priority=100)
    # After numpydoc (priority 500), which parses "name : type" lines first.
    app.connect("autodoc-process-docstring", _escape_docstring, priority=900)
