"""The written report of an agreement study: each of the paper's claims beside
what the run measured, and where the evidence is weak."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from mlpx.landscape._results import SeedStudy

#: Pairs "label alike" when they agree on at least this share of the samples.
AGREE = 0.95
#: Pairs "disagree" when they agree on less than this share on average.
DISAGREE = 0.80
#: Runs reach "the same loss" when (max - min) / mean of their final training
#: losses is at most this.
SPREAD = 0.10
#: A study has "few seeds" below this many.
FEW_SEEDS = 5


def _final(study):
    last = study.per_seed[study.per_seed.epoch == study.per_seed.epoch.max()]
    pairs = study.pairs[study.pairs.epoch == study.pairs.epoch.max()]
    return last, pairs


def _spread(losses):
    mean = float(np.mean(losses))
    return (float(np.max(losses)) - float(np.min(losses))) / mean if mean > 0 else 0.0


def _epochs_to_settle(curves):
    """Median over seeds of the first epoch by which a run's training loss has
    made 90 % of its decrease from the first recorded epoch to the last."""
    firsts = []
    for _, c in curves.groupby("seed"):
        loss = c.sort_values("epoch")
        values, epochs = loss.train_loss.to_numpy(), loss.epoch.to_numpy()
        target = values[-1] + 0.1 * (values[0] - values[-1])
        firsts.append(int(epochs[np.argmax(values <= target)]))
    return float(np.median(firsts))


def setup_facts(study) -> pd.DataFrame:
    """Per setup: final training losses (min, max, relative spread), training
    agreement (mean and worst pair), epochs to settle, and convergence."""
    last, pairs = _final(study)
    rows = []
    for setup in study.setups:
        losses = last[last.setup == setup].train_loss.to_numpy()
        agree = pairs[pairs.setup == setup].train_agreement.to_numpy()
        grad = study.arrays[setup].get("grad_norm")
        rows.append({
            "setup": setup,
            "loss_min": float(losses.min()), "loss_max": float(losses.max()),
            "loss_spread": _spread(losses),
            "agreement_mean": float(agree.mean()), "agreement_min": float(agree.min()),
            "epochs_to_settle": _epochs_to_settle(study.per_seed[study.per_seed.setup == setup]),
            "n_converged": None if grad is None else int(np.count_nonzero(
                study.converged(setup))),
            "grad_norm_max": None if grad is None else float(grad.max()),
        })
    return pd.DataFrame(rows).set_index("setup")


def _caveat(facts, setups, k):
    """'' or why runs of these setups are weak evidence about minima."""
    short = [f"{s}: {k - int(facts.loc[s, 'n_converged'])} of {k}" for s in setups
             if facts.loc[s, "n_converged"] is not None and facts.loc[s, "n_converged"] < k]
    return (" Weak evidence: runs not at a critical point (" + "; ".join(short) + ")."
            if short else "")


def _same_loss(facts, setup, k, words=("consistent", "contradicted")):
    """Verdict on "the runs reach the same loss": words[0] if they do."""
    f = facts.loc[setup]
    verdict = words[0] if f.loss_spread <= SPREAD else words[1]
    return (f"**{verdict}** — final training losses {f.loss_min:.4g} to {f.loss_max:.4g} "
            f"(relative spread {f.loss_spread:.1%}; 'the same' means at most {SPREAD:.0%})."
            + _caveat(facts, [setup], k))


def _alike(facts, setup, k, expect_alike=True):
    """Verdict on "pairs label alike" (or, not expect_alike, "pairs disagree")."""
    f = facts.loc[setup]
    if f.agreement_min >= AGREE:
        verdict = "consistent" if expect_alike else "contradicted"
    elif f.agreement_mean < DISAGREE:
        verdict = "contradicted" if expect_alike else "consistent"
    else:
        verdict = "contradicted" if expect_alike else "in between"
    return (f"**{verdict}** — pairs label {f.agreement_mean:.1%} of the training samples "
            f"alike on average, the least agreeing pair {f.agreement_min:.1%} ('alike': at "
            f"least {AGREE:.0%} for every pair; 'disagree': below {DISAGREE:.0%} on "
            "average)." + _caveat(facts, [setup], k))


def _claims(facts, setups, k, one_record=False):
    """(claim, verdict) pairs for the claims this study's setups can test."""
    out = []
    if "mse_no_softmax" in setups:
        out.append(("Without softmax (squared error, identity outputs), runs from "
                    "different seeds converge to the same loss (section 4.1).",
                    _same_loss(facts, "mse_no_softmax", k)))
        out.append(("Without softmax, two runs label the training samples identically "
                    "(section 5).", _alike(facts, "mse_no_softmax", k)))
    if {"mse_no_softmax", "mse_softmax"} <= set(setups) and not one_record:
        a, b = facts.loc["mse_no_softmax"], facts.loc["mse_softmax"]
        slower = b.epochs_to_settle > a.epochs_to_settle
        out.append((
            "With softmax (squared error on softmax outputs), convergence is much slower "
            "(section 4.2).",
            f"**{'consistent' if slower else 'contradicted'}** — a run makes 90 % of its "
            f"loss decrease by epoch {b.epochs_to_settle:g} with softmax and "
            f"{a.epochs_to_settle:g} without (medians over seeds)."
            + _caveat(facts, ["mse_no_softmax", "mse_softmax"], k)))
    if "mse_softmax" in setups:
        out.append(("With softmax, runs do not reach the same loss (section 4.2).",
                    _same_loss(facts, "mse_softmax", k,
                               words=("contradicted", "consistent"))))
        out.append(("With softmax, pairs of runs usually disagree on the labels (section 4.2).",
                    _alike(facts, "mse_softmax", k, expect_alike=False)))
    if "bce_sigmoid" in setups:
        out.append(("With binary cross-entropy (sigmoid outputs, no softmax), runs split into "
                    "groups that reach different losses (section 4.5).",
                    _same_loss(facts, "bce_sigmoid", k, words=("not seen", "seen"))))
    if "mse_regression" in setups:
        out.append(("On a regression target, runs without softmax converge to the same "
                    "loss (section 4.4).", _same_loss(facts, "mse_regression", k)))
    return out


def agreement_report(study: SeedStudy, baseline: pd.DataFrame | None = None, *,
                     description: str = "") -> str:
    """A short markdown report of an agreement study.

    States each claim of Cetinsoy, Mazari & Rhouma that the study's setups can
    test beside what this run measured, with the numbers and the thresholds
    used to call it, and where the evidence is weak: runs that did not end at
    a critical point, few seeds, losses close to the constant predictor's.

    Parameters
    ----------
    study : SeedStudy
        A study of :func:`agreement_study`.
    baseline : pandas.DataFrame, default=None
        :func:`constant_baseline` of the study's setups.
    description : str, default=''
        One line on the data and the training settings.

    Returns
    -------
    report : str
        Markdown.
    """
    facts = setup_facts(study)
    setups, k = study.setups, len(study.meta["seeds"])
    summary = study.summary()
    lines = ["# Agreement study", ""]
    if description:
        lines += [description, ""]
    lbfgs = study.meta["estimators"][setups[0]]["params"]["solver"] == "lbfgs"
    when = ("at the end of each L-BFGS fit" if lbfgs
            else f"after epoch {int(summary.epoch.iloc[0])}")
    lines += [f"{k} seeds per setup, compared {when}. "
              "Claims are those of Cetinsoy, Mazari & Rhouma's experimental test of "
              "Kawaguchi (2016).", "", "## Measured", "",
              "| setup | train loss (min-max) | constant | test score | agreement (mean, "
              "worst pair) | at a critical point | weights differing, raw / aligned |",
              "|---|---|---|---|---|---|---|"]
    for setup in setups:
        f, s = facts.loc[setup], summary.loc[setup]
        const = (f"{baseline.loc[setup, 'train_loss']:.4g}"
                 if baseline is not None and setup in baseline.index else "")
        conv = ("not recorded" if f.n_converged is None else
                f"{int(f.n_converged)} of {k} (max \\|grad\\| {f.grad_norm_max:.2g})")
        aligned = (f"{s.aligned_weight_diff_count_mean:.0f}"
                   if "aligned_weight_diff_count_mean" in s and
                   pd.notna(s.aligned_weight_diff_count_mean) else "-")
        raw = (f"{s.weight_diff_count_mean:.0f}" if "weight_diff_count_mean" in s
               else "not recorded")
        test = (f"{s.test_score_mean:.4f} ± {s.test_score_std:.4f}"
                if "test_score_mean" in s and pd.notna(s.test_score_mean) else "-")
        lines.append(
            f"| {setup} | {f.loss_min:.4g}-{f.loss_max:.4g} | {const} | "
            f"{test} | {f.agreement_mean:.1%}, "
            f"{f.agreement_min:.1%} | {conv} | {raw} / {aligned} |")
    lines += ["", "A run is at a critical point when the full-batch gradient norm of its "
              f"training objective is at most {study.meta['grad_tol']:g} and at most "
              f"{study.meta.get('grad_rtol', np.inf):g} times its value at the initial "
              "weights.", ""]
    if study.meta.get("until") == "tolerance":
        ended = "; ".join(
            f"{s}: {int((study.arrays[s]['stopped_by'] == 'tolerance').sum())} of {k} at the "
            "tolerance" for s in setups)
        lines += [f"Each run trained until a critical point or the budget ({ended}).", ""]
    lines += ["## The paper's claims against this run", ""]
    claims = _claims(facts, setups, k, one_record=len(study.arrays[setups[0]]["epochs"]) == 1)
    if not claims:
        lines.append("None of the paper's setups was run.")
    for claim, verdict in claims:
        lines += [f"- {claim}", f"  {verdict}"]
    lines += ["", "## Where the evidence is weak", ""]
    weak = []
    for setup in setups:
        f = facts.loc[setup]
        if f.n_converged is not None and f.n_converged < k:
            weak.append(f"- {setup}: {k - int(f.n_converged)} of {k} runs ended away from a "
                        f"critical point (largest gradient norm {f.grad_norm_max:.2g}): they "
                        "were compared before reaching a minimum; "
                        + ("raise the iteration budget or lower tol." if lbfgs else
                           "train longer, or use --solver lbfgs."))
        if baseline is not None and setup in baseline.index:
            const = float(baseline.loc[setup, "train_loss"])
            if f.loss_max > 0.5 * const:
                weak.append(f"- {setup}: a run ends at training loss {f.loss_max:.4g}, more "
                            f"than half the constant predictor's {const:.4g}: it barely "
                            "learned.")
    if k < FEW_SEEDS:
        weak.append(f"- {k} seeds ({k * (k - 1) // 2} pairs): too few to tell a rare "
                    f"disagreeing minimum from none; use {FEW_SEEDS} or more.")
    if "aligned_weight_diff_count_mean" not in summary:
        weak.append("- Weights are compared position by position only: equivalent networks "
                    "with permuted hidden units count as different.")
    lines += weak or ["Nothing flagged: every run ended at a critical point, and the losses "
                      "are far below the constant predictor's."]
    return "\n".join(lines) + "\n"
