"""Customer lifetime value: BG/NBD (how many more purchases) and Gamma-Gamma (how much per purchase), fitted
with lifetimes on distinct rows; holdout validation, CLV by segment, CAC:LTV.

Submodules: analysis, choice, data, fit, model, params, plots, ranges, report. Parameters: ``params.DEFAULTS`` (documented) and
``params.check``; the practice's registry entry is in :mod:`crmlib.core.registry`.
"""

from crmlib.lazy import attach

#: the public names by the submodule that defines them; a submodule is imported when one of its names is
#: first used (:mod:`crmlib.lazy`), so that reading ``params`` or running a computation does not import
#: the report and plotting modules
EXPORTS: dict[str, tuple[str, ...]] = {
    "analysis": (
        "MAX_GROUP", "MIN_CALIBRATION_CUSTOMERS", "HoldoutResult", "activity_bands", "cac_ltv",
        "clv_by_group", "clv_share_of_top", "frequency_group", "holdout_validation", "model_facts",
        "palive_matrix", "top_customers", "value_to_date",
    ),
    "choice": (),
    "data": (
        "DAYS_PER_MONTH", "SUMMARY_COLUMNS", "UNITS", "calibration_holdout", "lifetimes_summary",
        "monthly_schedule", "unit_days",
    ),
    "fit": (
        "OBJECTIVES", "SUBSAMPLE_CUSTOMERS", "SUBSAMPLE_TOL", "WARM_START_ROWS", "Objective",
        "bgnbd_objective", "central_hessian", "fit_once", "fit_with_retries", "fitter_class",
        "gamma_gamma_objective", "lifetimes_module", "log_covariance", "make_fitter", "patterns", "quiet",
    ),
    "model": ("ClvModel", "clv_table", "data_readiness", "fit_clv", "require_columns", "resolve_params"),
    "params": ("DEFAULTS",),
    "plots": (),
    "ranges": (),
    "report": (
        "ClvAnalysis", "analyse", "band_label", "channel_label", "fitted_model", "note_text",
        "parameters_display", "signed_pct", "summary_lines",
    ),
}

__all__ = [
    "analysis",
    "choice",
    "data",
    "fit",
    "model",
    "params",
    "plots",
    "ranges",
    "report",
    "ClvAnalysis",
    "analyse",
    "ClvModel",
    "DAYS_PER_MONTH",
    "DEFAULTS",
    "HoldoutResult",
    "MAX_GROUP",
    "MIN_CALIBRATION_CUSTOMERS",
    "OBJECTIVES",
    "Objective",
    "SUBSAMPLE_CUSTOMERS",
    "SUBSAMPLE_TOL",
    "SUMMARY_COLUMNS",
    "UNITS",
    "WARM_START_ROWS",
    "bgnbd_objective",
    "cac_ltv",
    "calibration_holdout",
    "central_hessian",
    "channel_label",
    "clv_by_group",
    "clv_share_of_top",
    "clv_table",
    "data_readiness",
    "fit_clv",
    "fit_once",
    "fit_with_retries",
    "fitted_model",
    "fitter_class",
    "frequency_group",
    "gamma_gamma_objective",
    "holdout_validation",
    "lifetimes_module",
    "log_covariance",
    "lifetimes_summary",
    "make_fitter",
    "model_facts",
    "monthly_schedule",
    "note_text",
    "activity_bands",
    "band_label",
    "palive_matrix",
    "parameters_display",
    "patterns",
    "quiet",
    "require_columns",
    "resolve_params",
    "signed_pct",
    "summary_lines",
    "top_customers",
    "unit_days",
    "value_to_date",
]

__getattr__, __dir__ = attach(__name__, EXPORTS, __all__)
