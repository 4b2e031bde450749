"""scikit-learn's own MLP tests (the installed scikit-learn's test_mlp.py), run
against mlpx by aliasing the import: the drop-in promise, checked from outside."""

import subprocess
import sys
from pathlib import Path

import sklearn

SOURCE = Path(sklearn.__file__).parent / "neural_network" / "tests" / "test_mlp.py"
IMPORT = "from sklearn.neural_network import MLPClassifier, MLPRegressor"
ALIAS = "from mlpx import MLPXClassifier as MLPClassifier, MLPXRegressor as MLPRegressor"
#: Tests that cannot apply to another implementation, with the reason.
NOT_APPLICABLE = {
    "test_gradient": "calls scikit-learn's private _backprop and _forward_pass",
}
# scikit-learn's conftest provides this fixture (42 unless its tests are told
# otherwise)
CONFTEST = '''import pytest


@pytest.fixture
def global_random_seed():
    return 42
'''


def test_scikit_learns_mlp_tests_pass_against_mlpx(tmp_path):
    source = SOURCE.read_text()
    assert source.count(IMPORT) == 1, f"{SOURCE} no longer imports the MLPs as expected"
    (tmp_path / "test_mlp_mlpx.py").write_text(source.replace(IMPORT, ALIAS))
    (tmp_path / "conftest.py").write_text(CONFTEST)
    deselect = [f"--deselect=test_mlp_mlpx.py::{name}" for name in NOT_APPLICABLE]
    res = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W",
         "ignore::DeprecationWarning", *deselect, "test_mlp_mlpx.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )
    assert res.returncode == 0, res.stdout[-6000:] + res.stderr[-2000:]
    assert " passed" in res.stdout and " failed" not in res.stdout


def test_a_diverging_run_with_early_stopping_keeps_its_best_weights():
    import warnings

    import numpy as np
    import pytest
    from sklearn.datasets import load_iris
    from sklearn.exceptions import ConvergenceWarning

    from mlpx import DivergenceError, MLPXRegressor

    X, y = load_iris(return_X_y=True)
    est = MLPXRegressor(hidden_layer_sizes=100, activation="identity", solver="sgd",
                        learning_rate_init=1, max_iter=20, early_stopping=True,
                        random_state=0)
    with pytest.warns(ConvergenceWarning, match="Training diverged in epoch"):
        est.fit(X, y)
    scores = est.validation_scores_
    assert np.isnan(scores[-1]) and len(scores) == est.n_iter_ == len(est.loss_curve_)
    assert est.best_validation_score_ == max(s for s in scores if np.isfinite(s))
    assert all(np.isfinite(c).all() for c in est.coefs_)
    assert np.isfinite(est.predict(X)).all()
    # no finite validation score before the divergence: nothing to keep
    with warnings.catch_warnings(), pytest.raises(DivergenceError, match="Solver produced"):
        warnings.simplefilter("ignore")
        MLPXRegressor(hidden_layer_sizes=100, activation="identity", solver="sgd",
                      learning_rate_init=1e30, batch_size=10, max_iter=20,
                      early_stopping=True, random_state=0).fit(X, y)


def test_weights_assigned_by_hand_must_fit_the_data():
    import numpy as np
    import pytest

    from mlpx import MLPXRegressor

    est = MLPXRegressor(hidden_layer_sizes=(2,), solver="sgd")
    est.coefs_ = [np.zeros((3, 2)), np.zeros((2, 1))]
    est.intercepts_ = [np.zeros(2), np.zeros(1)]
    with pytest.raises(ValueError, match=r"assigned with shapes \[\(3, 2\), \(2, 1\)\]"):
        est.partial_fit(np.ones((4, 5)), np.ones(4))
    est.partial_fit(np.ones((4, 3)), np.ones(4))  # the right shapes: they are the start
    assert est.n_iter_ == 1 and np.isfinite(est.coefs_[0]).all()
