"""The written report of an agreement study: claims, verdicts and caveats."""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes, load_digits

from mlpx.landscape import agreement_report, agreement_study, constant_baseline
from mlpx.landscape._report import AGREE, DISAGREE, SPREAD, _alike, _same_loss


@pytest.fixture(scope="module")
def study_and_baseline():
    X, y = load_digits(return_X_y=True)
    X, y = X[:300] / 16, y[:300]
    study = agreement_study(X, y, seeds=[0, 1, 2], hidden_layer_sizes=(8,), epochs=4)
    return study, constant_baseline(study.setups, y)


def test_the_report_states_each_setups_numbers_and_the_claims_it_can_test(study_and_baseline):
    study, baseline = study_and_baseline
    text = agreement_report(study, baseline, description="digits, 300 samples")
    assert text.startswith("# Agreement study\n\ndigits, 300 samples")
    last = study.per_seed[study.per_seed.epoch == 4]
    for setup in study.setups:
        losses = last[last.setup == setup].train_loss
        row = next(line for line in text.splitlines() if line.startswith(f"| {setup} |"))
        assert f"{losses.min():.4g}-{losses.max():.4g}" in row
        assert f"| {baseline.loc[setup, 'train_loss']:.4g} |" in row
    # the verdict on "the same loss without softmax" follows the measured spread
    mse = last[last.setup == "mse_no_softmax"].train_loss
    spread = (mse.max() - mse.min()) / mse.mean()
    claim = text.split("converge to the same loss (section 4.1).\n")[1].splitlines()[0]
    assert ("**consistent**" in claim) == (spread <= SPREAD)
    assert f"{spread:.1%}" in claim
    assert text.count("(section") == 6  # the six claims four setups can test


def test_the_report_flags_unconverged_runs_few_seeds_and_barely_trained_ones(
        study_and_baseline):
    study, baseline = study_and_baseline
    text = agreement_report(study, baseline)
    weak = text.split("## Where the evidence is weak")[1]
    summary = study.summary()
    for setup in study.setups:
        short = 3 - int(summary.loc[setup, "n_converged"])
        assert (f"{setup}: {short} of 3 runs ended away from a critical point" in weak) == (
            short > 0)
    assert "3 seeds (3 pairs): too few" in weak
    worst = study.per_seed[study.per_seed.epoch == 4].groupby("setup").train_loss.max()
    for setup in study.setups:
        barely = worst[setup] > 0.5 * baseline.loc[setup, "train_loss"]
        assert (f"{setup}: a run ends at training loss" in weak) == barely


def test_verdicts_follow_the_stated_thresholds():
    facts = pd.DataFrame(
        {"agreement_mean": [0.99, 0.90, 0.70], "agreement_min": [AGREE, 0.85, 0.60],
         "loss_min": [1.0, 1.0, 1.0], "loss_max": [1.0 + SPREAD, 1.2, 2.0],
         "loss_spread": [SPREAD, 0.18, 0.67], "n_converged": [3, 3, 2],
         "grad_norm_max": [1e-4, 1e-4, 0.1]},
        index=["alike", "between", "apart"])
    assert _alike(facts, "alike", 3).startswith("**consistent**")
    assert _alike(facts, "alike", 3, expect_alike=False).startswith("**contradicted**")
    assert _alike(facts, "between", 3, expect_alike=False).startswith("**in between**")
    assert facts.loc["apart", "agreement_mean"] < DISAGREE
    assert _alike(facts, "apart", 3, expect_alike=False).startswith("**consistent**")
    assert _same_loss(facts, "alike", 3).startswith("**consistent**")
    assert _same_loss(facts, "between", 3).startswith("**contradicted**")
    assert "Weak evidence: runs not at a critical point (apart: 1 of 3)" in _same_loss(
        facts, "apart", 3)
    assert "Weak evidence" not in _same_loss(facts, "between", 3)


def test_a_regression_study_reports_the_regression_claim():
    X, y = load_diabetes(return_X_y=True)
    y = (y - y.mean()) / y.std()
    study = agreement_study(X[:200], y[:200], seeds=[0, 1], hidden_layer_sizes=(4,), epochs=3)
    text = agreement_report(study, constant_baseline(study.setups, y[:200]))
    assert "On a regression target, runs without softmax converge" in text
    assert text.count("(section") == 1
    assert np.isfinite(study.summary().loc["mse_regression", "train_loss_mean"])


def test_an_lbfgs_study_is_reported_at_the_end_of_its_fits_without_a_speed_claim():
    X, y = load_digits(return_X_y=True)
    study = agreement_study(X[:200] / 16, y[:200], seeds=[0, 1], hidden_layer_sizes=(4,),
                            epochs=50, solver="lbfgs", until="tolerance")
    text = agreement_report(study)
    assert "compared at the end of each L-BFGS fit" in text
    assert "convergence is much slower" not in text  # one record per run: not measurable
    assert text.count("(section") == 5
    # until='tolerance' lets L-BFGS run past its default tol
    assert study.estimators["mse_no_softmax"][0].tol == 0.0
