"""Targets: y as the engine's target matrix, and back (estimators and landscape alike)."""

import numpy as np
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.multiclass import type_of_target, unique_labels


def is_regression_target(y):
    """Whether y is a continuous target (a regressor's), not class labels."""
    return type_of_target(y) in ("continuous", "continuous-multioutput")


def n_outputs(y, classifier):
    """The network's outputs for targets y: one per class (one for binary labels,
    one per label of a multilabel indicator), one per column of a regressor's y."""
    y = np.asarray(y)
    if classifier:
        return LabelBinarizer().fit(y).transform(y[:1]).shape[1]
    return 1 if y.ndim == 1 else y.shape[1]


def _is_integer_labels(y):
    return isinstance(y, np.ndarray) and y.ndim == 1 and y.dtype.kind in "iu" and y.size > 0


def unique(y):
    """unique_labels(y), by one np.unique for a 1-D integer array (unique_labels'
    type checks cost more than a partial_fit of a small batch)."""
    return np.unique(y) if _is_integer_labels(y) else unique_labels(y)


def fit_label_binarizer(y):
    """LabelBinarizer().fit(y), its three attributes from one np.unique for a 1-D
    integer array (type_of_target and unique_labels cost more than the fit of a
    small network)."""
    lb = LabelBinarizer()
    if _is_integer_labels(y):
        lb.classes_ = np.unique(y)
        lb.y_type_ = "multiclass" if len(lb.classes_) > 2 else "binary"
        lb.sparse_input_ = False
        return lb
    return lb.fit(y)


def binarize(lb, y, dtype):
    """lb.transform(y) as a `dtype` array: one-hot without its validation when y
    is a 1-D array of lb's known labels (its checks cost more than the fit of a
    small network)."""
    classes = lb.classes_
    if lb.y_type_ in ("binary", "multiclass") and y.ndim == 1 and len(classes) >= 2:
        idx = np.searchsorted(classes, y)
        if (idx < len(classes)).all() and np.array_equal(classes[idx], y):
            if lb.y_type_ == "binary":
                return (idx == 1).astype(dtype).reshape(-1, 1)
            Y = np.zeros((y.shape[0], len(classes)), dtype=dtype)
            Y[np.arange(y.shape[0]), idx] = 1
            return Y
    return lb.transform(y).astype(dtype)


def labels_from_output(lb, out, n_outputs):
    """Class labels from a classifier's outputs (LabelBinarizer.inverse_transform's
    decisions, without its per-call validation)."""
    if lb.y_type_ == "multiclass":
        return lb.classes_.take(np.argmax(out, axis=1))
    if lb.y_type_ == "binary" and len(lb.classes_) == 2:
        return lb.classes_.take((out[:, 0] > 0.5).astype(np.intp))
    return lb.inverse_transform(out.ravel() if n_outputs == 1 else out)


def check_known_labels(y, classes, name="y"):
    """Raise ValueError if y holds labels outside classes."""
    unknown = np.setdiff1d(unique_labels(y), classes)
    if len(unknown):
        raise ValueError(f"{name} has labels {unknown} that are not in classes_ {classes}.")
