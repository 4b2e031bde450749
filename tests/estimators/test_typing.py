"""The public API is fully annotated: every parameter and every return type.

The public API is every name in ``mlpx.__all__`` and ``mlpx.landscape.__all__``
and the public methods (and properties) of the public classes, as far as they
are defined in mlpx. Annotations are read with ``inspect.signature`` and not
resolved: names imported under ``TYPE_CHECKING`` (pandas, matplotlib) need not
exist at runtime.
"""

import inspect

import pytest

import mlpx
import mlpx.landscape

MODULES = (mlpx, mlpx.landscape)
SKIPPED_KINDS = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)

# The API listed when it was first annotated: the walk below must find them all.
EXPECTED = {
    "MLPXClassifier.fit", "MLPXClassifier.partial_fit", "MLPXClassifier.predict",
    "MLPXClassifier.predict_log_proba", "MLPXClassifier.predict_proba",
    "MLPXRegressor.fit", "MLPXRegressor.partial_fit", "MLPXRegressor.predict",
    "show_versions", "PathResult.plot", "align", "auer_dataset", "bezier_path",
    "check_linear_assumptions", "cka_matrix", "classify_critical_point",
    "count_distinct_minima", "critical_point_from_eigenvectors",
    "decision_disagreement", "dense_hessian", "extreme_eigenvalues",
    "hessian_operator", "hidden_representations", "hutchinson_trace", "linear_cka",
    "linear_network_optimum", "linear_path", "permute_hidden_units",
    "plot_decision_boundaries", "plot_width_study", "random_labels",
    "weight_distance", "width_study", "SeedStudy.agreement_matrix",
    "SeedStudy.plot_agreement_counts", "SeedStudy.plot_agreement_matrix",
    "SeedStudy.plot_loss_curves", "SeedStudy.save", "SeedStudy.summary",
    "SeedStudy.write_files", "agreement_matrix", "agreement_over_epochs",
    "agreement_study", "ensemble_spread", "flat_params", "plot_agreement_counts",
    "plot_agreement_matrix", "plot_loss_curves", "prediction_agreement",
    "train_seeds", "weight_difference_count",
}


def _defined_in_mlpx(obj):
    return (getattr(obj, "__module__", None) or "").split(".")[0] == "mlpx"


def _public_methods(cls):
    """(name, function) of the public methods and properties mlpx defines on cls."""
    seen = set()
    for klass in cls.__mro__:
        if not _defined_in_mlpx(klass):
            continue
        for name, raw in vars(klass).items():
            if name.startswith("_") or name in seen:
                continue
            seen.add(name)
            if isinstance(raw, property):
                yield name, raw.fget
                continue
            attr = getattr(cls, name)  # unwraps classmethods and available_if
            # Methods scikit-learn generates (set_fit_request, ...) are not ours.
            if (inspect.isfunction(attr) or inspect.ismethod(attr)) and _defined_in_mlpx(attr):
                yield name, attr


def public_callables():
    """(qualified name, function) of every public function and method."""
    found = {}
    for module in MODULES:
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj):
                if _defined_in_mlpx(obj):
                    for meth_name, meth in _public_methods(obj):
                        found[f"{name}.{meth_name}"] = meth
            elif callable(obj):
                found[name] = obj
    return sorted(found.items())


def _annotated(annotation):
    if annotation is inspect.Parameter.empty:
        return False
    return bool(annotation.strip()) if isinstance(annotation, str) else True


def missing_annotations(func):
    """Names of the unannotated parameters of func, and 'return' if it lacks one."""
    sig = inspect.signature(func)
    missing = [
        p.name for i, p in enumerate(sig.parameters.values())
        if p.kind not in SKIPPED_KINDS
        and not (i == 0 and p.name in ("self", "cls"))
        and not _annotated(p.annotation)
    ]
    if not _annotated(sig.return_annotation):
        missing.append("return")
    return missing


PUBLIC = public_callables()


def test_walk_finds_the_public_api():
    names = {name for name, _ in PUBLIC}
    assert EXPECTED <= names, sorted(EXPECTED - names)


@pytest.mark.parametrize("func", [f for _, f in PUBLIC], ids=[n for n, _ in PUBLIC])
def test_fully_annotated(func):
    assert missing_annotations(func) == []


def test_check_catches_missing_annotations():
    def no_return(self, a: int, *args, b: "str", **kwargs):
        pass

    def bare(a, b: int = 0) -> None:
        pass

    def empty_string(a):
        pass

    empty_string.__annotations__ = {"a": "", "return": "  "}

    def complete(self, a: int, *args: int, b: "str | None" = None, **kwargs) -> int:
        return a

    assert missing_annotations(no_return) == ["return"]
    assert missing_annotations(bare) == ["a"]
    assert missing_annotations(empty_string) == ["a", "return"]
    assert missing_annotations(complete) == []
