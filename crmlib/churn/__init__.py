"""Churn early warning: signals per customer, an out-of-time risk score, the weekly call list, backtest and win-back.

Submodules: actions, backtesting, calibration, model, params, plots, products, report, scoring, signals, weekly. Parameters: ``params.DEFAULTS`` (documented) and
``params.check``; the practice's registry entry is in :mod:`crmlib.core.registry`.
"""

from crmlib.lazy import attach

#: the public names by the submodule that defines them; a submodule is imported when one of its names is
#: first used (:mod:`crmlib.lazy`), so that reading ``params`` or running a computation does not import
#: the report and plotting modules
EXPORTS: dict[str, tuple[str, ...]] = {
    "actions": ("ACTIONS", "LIST_COLUMNS", "build_list", "count_winback", "next_order", "suggest"),
    "backtesting": ("backtest", "evaluate", "precision_at"),
    "calibration": (),
    "model": ("RiskModel", "available", "features"),
    "params": ("DEFAULTS", "LAPSED_LEVEL", "LEVELS"),
    "plots": (),
    "products": (),
    "report": (
        "EXPORT_COLUMNS", "UNITS", "ChurnAnalysis", "active", "analyse", "at_risk_list", "backtest_line",
        "backtest_table", "clv_inputs", "export_table", "flagged", "level_table", "reason_sentences",
        "reasons_text", "risk_text", "summary_lines", "unavailable_text", "weekly_call_lists", "worded_list",
    ),
    "scoring": (
        "WeeklyResult", "compute_signals", "expected_next_order", "expected_orders_at", "fit_risk_model",
        "history_flags", "risk_scores", "unavailable_signals", "winback",
    ),
    "signals": (
        "NEEDS", "SIGNALS", "complaints", "frequency_and_value", "late_payments", "optional_table",
        "purchases", "rhythm", "unanswered_outreach",
    ),
    "weekly": (),
}

__all__ = [
    "actions",
    "backtesting",
    "calibration",
    "model",
    "params",
    "plots",
    "products",
    "report",
    "scoring",
    "signals",
    "weekly",
    "ACTIONS",
    "DEFAULTS",
    "ChurnAnalysis",
    "EXPORT_COLUMNS",
    "LAPSED_LEVEL",
    "LEVELS",
    "LIST_COLUMNS",
    "NEEDS",
    "RiskModel",
    "SIGNALS",
    "UNITS",
    "WeeklyResult",
    "active",
    "analyse",
    "at_risk_list",
    "available",
    "backtest",
    "backtest_line",
    "backtest_table",
    "evaluate",
    "precision_at",
    "build_list",
    "clv_inputs",
    "complaints",
    "compute_signals",
    "count_winback",
    "expected_next_order",
    "expected_orders_at",
    "export_table",
    "features",
    "fit_risk_model",
    "flagged",
    "frequency_and_value",
    "history_flags",
    "late_payments",
    "level_table",
    "next_order",
    "optional_table",
    "purchases",
    "reason_sentences",
    "reasons_text",
    "rhythm",
    "risk_scores",
    "risk_text",
    "suggest",
    "summary_lines",
    "unanswered_outreach",
    "unavailable_signals",
    "unavailable_text",
    "weekly_call_lists",
    "worded_list",
    "winback",
]

__getattr__, __dir__ = attach(__name__, EXPORTS, __all__)
