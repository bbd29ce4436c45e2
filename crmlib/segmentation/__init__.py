"""Customer segmentation: RFM scores, the named RFM segments, wholesale A/B/C tiers and value flags.

Submodules: actions, params, plots, report (what the notebook shows:
:func:`report.analyse`), rfm, tiers. Parameters: ``params.DEFAULTS`` (documented) and ``params.check``;
the practice's registry entry is in :mod:`crmlib.core.registry`.
"""

from crmlib.lazy import attach

#: the public names by the submodule that defines them; a submodule is imported when one of its names is
#: first used (:mod:`crmlib.lazy`), so that reading ``params`` or running a computation does not import
#: the report and plotting modules
EXPORTS: dict[str, tuple[str, ...]] = {
    "actions": ("ENTERED", "GONE", "consent_given", "migration", "missing_consent"),
    "params": (
        "DEFAULTS", "LAPSED_DAYS", "LAPSED_SEGMENTS", "PASSIVE_TIER", "SEGMENTS", "TIERS", "check",
        "check_rules", "group_params", "is_lapsed", "lapsed_limit", "resolve_params",
    ),
    "plots": (),
    "report": (
        "CONTACT_COLUMNS", "UNITS", "SegmentationAnalysis", "analyse", "contact_list", "group_label",
        "mask_contacts", "segment_label", "strategy_table", "summary_lines", "tier_label", "value_summary",
        "with_names",
    ),
    "rfm": (
        "CONTRACT_COLUMNS", "assign_segments", "rfm_scores", "rfm_table", "segment_profile", "segment_table",
        "top_customers",
    ),
    "tiers": ("abc_table", "abc_tiers", "percentile", "value_flags"),
}

__all__ = [
    "actions",
    "params",
    "plots",
    "report",
    "rfm",
    "tiers",
    "CONTACT_COLUMNS",
    "CONTRACT_COLUMNS",
    "DEFAULTS",
    "ENTERED",
    "LAPSED_DAYS",
    "LAPSED_SEGMENTS",
    "PASSIVE_TIER",
    "GONE",
    "SEGMENTS",
    "TIERS",
    "UNITS",
    "SegmentationAnalysis",
    "analyse",
    "abc_table",
    "abc_tiers",
    "assign_segments",
    "check",
    "check_rules",
    "consent_given",
    "contact_list",
    "group_label",
    "group_params",
    "is_lapsed",
    "lapsed_limit",
    "mask_contacts",
    "migration",
    "missing_consent",
    "percentile",
    "resolve_params",
    "rfm_scores",
    "rfm_table",
    "segment_label",
    "segment_profile",
    "segment_table",
    "strategy_table",
    "summary_lines",
    "tier_label",
    "top_customers",
    "value_flags",
    "value_summary",
    "with_names",
]

__getattr__, __dir__ = attach(__name__, EXPORTS, __all__)
