"""mlpx.landscape reaches the estimators only through their public API and the
engine facade (mlpx._engine): checked on the sources."""

import ast
from pathlib import Path

import mlpx.landscape

SOURCES = sorted(Path(mlpx.landscape.__file__).parent.glob("*.py"))
# What landscape may import from mlpx's private modules: the engine facade, and
# the argument helpers that every mlpx command shares (no estimator or engine
# internals).
ALLOWED = {"mlpx._engine", "mlpx._cli_tools"}
TREES = [ast.parse(path.read_text()) for path in SOURCES]


def own_private_names(trees):
    """Private names the landscape package defines itself (functions, classes,
    attributes it sets)."""
    names = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
    return {n for n in names if n.startswith("_")}


def private_imports(tree):
    """Modules of mlpx outside the landscape, other than the facade, with a
    private part in their name."""
    found = []
    for node in ast.walk(tree):
        modules = []
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        for module in modules:
            parts = module.split(".")
            if (parts[0] == "mlpx" and module not in ALLOWED
                    and not module.startswith("mlpx.landscape")
                    and any(p.startswith("_") for p in parts[1:])):
                found.append((node.lineno, module))
    return found


def private_reads(tree, own):
    """Private attributes read that the landscape does not define itself."""
    return [(node.lineno, node.attr) for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr.startswith("_")
            and not node.attr.startswith("__") and node.attr not in own]


def test_landscape_imports_no_private_module_but_the_facade():
    found = {p.name: private_imports(t) for p, t in zip(SOURCES, TREES)}
    assert not any(found.values()), found


def test_landscape_reads_no_private_attribute_of_other_objects():
    own = own_private_names(TREES)
    found = {p.name: private_reads(t, own) for p, t in zip(SOURCES, TREES)}
    assert not any(found.values()), found


def test_the_rules_catch_what_the_landscape_used_to_do():
    tree = ast.parse("from mlpx._network import pack\n"
                     "from mlpx._engine import params_of\n"
                     "from mlpx import MLPXClassifier\n"
                     "sizes = est._layer_units\n"
                     "study._check_setup(name)\n")
    assert private_imports(tree) == [(1, "mlpx._network")]
    assert private_reads(tree, own_private_names(TREES)) == [(4, "_layer_units")]
