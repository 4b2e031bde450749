"""scikit-learn's own estimator checks, over both estimators, none skipped."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from mlpx import MLPXClassifier, MLPXRegressor


@parametrize_with_checks(
    [MLPXClassifier(random_state=0), MLPXClassifier(loss="squared_error", random_state=0),
     MLPXRegressor(random_state=0)],
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
