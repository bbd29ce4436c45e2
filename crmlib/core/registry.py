"""The practice registry: the one list of what each CRM practice brings to a run.

Every practice declares here its subpackage (``crmlib.<name>``), its notebook, its params section, the
message catalogues in its folder, what it needs from other practices (the segment table, the lifetime-value
model), what it provides to them, and the files it exports, with their descriptions in both languages (the
run index shows them). The runner, the params loader, the context and the tests read this module; nothing
else keeps a list of practices.

Shared layers (core, report, data) never import a practice: modules are named here by dotted strings and
imported on demand with :func:`load` (as papermill names its engines), so the import graph stays layered
(``lint-imports`` checks it).

Adding a practice is one :class:`Practice` entry in :data:`PRACTICES` (see docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crmlib.errors import ParamsError, did_you_mean

#: the language codes every description is given in
LANGUAGES: tuple[str, ...] = ("tr", "en")


@dataclass(frozen=True)
class Export:
    """A file a practice writes to ``exports/`` (``file`` with its extension) and what it holds."""

    file: str
    en: str
    tr: str

    def description(self, lang: str) -> str:
        """The description in ``lang`` (``tr`` or ``en``)."""
        return {"en": self.en, "tr": self.tr}[lang]


@dataclass(frozen=True)
class Provider:
    """A result one practice computes once per run for the others.

    ``build`` is ``"module:function"`` called with the run's context; ``restore`` (optional) turns the saved
    JSON form back into the object. A ``tolerant`` product that cannot be computed is logged and left to the
    notebooks that need it to explain; otherwise the run stops.
    """

    build: str
    restore: str | None = None
    tolerant: bool = False
    #: the optional input tables ``build`` reads (``customers``, ``tickets``); ``None``: every table
    tables: tuple[str, ...] | None = None
    #: per optional table of ``tables``, the columns (our names) ``build`` reads when fewer than all; a table
    #: not named here (or ``None``) is read whole
    columns: dict[str, tuple[str, ...] | None] = field(default_factory=dict)
    #: ``"module:function"`` without arguments importing what ``build`` needs (the runner calls it on a thread
    #: while the data load, so the import is not on the way to the product)
    warm_up: str | None = None
    #: whether ``build`` reads the order lines (as :attr:`Practice.order_lines` says it)
    order_lines: bool = True


@dataclass(frozen=True)
class Practice:
    """One CRM practice: ``crmlib.<name>`` with its notebook, params section, catalogues and exports."""

    name: str
    notebook: str
    params_section: str | None
    catalogues: tuple[str, ...] = ("messages.yaml",)
    needs: tuple[str, ...] = ()
    provides: dict[str, Provider] = field(default_factory=dict)
    exports: tuple[Export, ...] = ()
    #: key prefixes of its catalogue (``churn.``, ``xsell.``); its tables' headers are ``<ns>.col.<column>``
    namespaces: tuple[str, ...] = ()
    #: the share of a run's notebook time its section takes on large data (measured on 10M order lines);
    #: the runner starts the longest notebooks first when the reports folder has no earlier run to go by
    cost: float = 1.0
    #: the optional input tables (besides the orders) its notebook reads, directly or through :meth:`Context.read`
    #: / :meth:`Context.has`; ``None``: every table. A run of some notebooks only (``run --only``) reads the
    #: tables these name, and those of the providers of what they need (tests/core/test_run_only.py checks
    #: that each notebook run alone shows what it shows in a full run)
    tables: tuple[str, ...] | None = None
    #: per optional table of ``tables``, the columns (our names) its notebook reads when fewer than all, through
    #: :meth:`Context.read`, :meth:`Context.has` or the frame; a table not named here (or ``None``) is read whole.
    #: ``run --only`` reads and checks only these (the loader reads in part only a table with one row per key,
    #: ``crmlib.data.validate.columns_to_read``); ``validate`` and a full run read every column
    columns: dict[str, tuple[str, ...] | None] = field(default_factory=dict)
    #: whether its notebook reads the order lines, directly or through its report code: ``ctx.order_lines``,
    #: ``ctx.read``/``ctx.has``/``ctx.stored`` of ``"orders"``, ``ctx.blank_counts`` or a view over the lines
    #: (``ctx.view``: every view but those of the orders, ``customer_summary`` and ``customer_months``). A run
    #: of some notebooks only saves the order lines for its kernels when one of them, or a provider of what
    #: they need, says so (:func:`reads_order_lines`); a kernel reading them anyway fails at once naming this
    #: field (tests/core/test_registry.py checks each practice's sources against it)
    order_lines: bool = True
    #: its notebook kernel's peak memory in GB on the 10M-line benchmark (``kernel_peak_mb`` in run.json):
    #: the runner does not run two notebooks together whose peaks add up to more than its budget
    memory: float = 1.0

    @property
    def package(self) -> str:
        """The practice's subpackage (``crmlib.churn``)."""
        return f"crmlib.{self.name}"

    @property
    def params_module(self) -> str:
        """The module holding ``DEFAULTS`` and ``check`` (``crmlib.churn.params``)."""
        return f"{self.package}.params"


PRACTICES: tuple[Practice, ...] = (
    Practice(
        name="overview", cost=7, memory=1.5,
        namespaces=("ov", "kpi"), notebook="00_overview", params_section=None,
        catalogues=("messages.yaml", "kpi_messages.yaml"),
        tables=None,  # the data-quality section covers every table
    ),
    Practice(
        name="segmentation", cost=6, memory=1.2,
        namespaces=("seg",), notebook="01_segmentation", params_section="segmentation",
        needs=("segments",), tables=("customers", "tickets"), order_lines=False,
        provides={"segments": Provider(build="crmlib.segmentation.rfm:segment_table",
                                       tables=("customers", "tickets"), order_lines=False,
                                       columns={"customers": ("customer_id", "referred_by")}),  # tiers.py
                  # the RFM part alone (the segment table starts from it): all the lifetime-value page groups by
                  "rfm_segments": Provider(build="crmlib.segmentation.rfm:rfm_table", tables=(),
                                           order_lines=False)},
        exports=(
            Export("segments.csv", en="Every customer's segment, scores and A/B/C tier",
                   tr="Her müşterinin segmenti, puanları ve A/B/C sınıfı"),
            Export("segment_contacts.csv", en="Contact list with the suggested action per segment",
                   tr="Segmente göre önerilen eylemle iletişim listesi"),
        ),
    ),
    Practice(
        name="churn", cost=32, memory=3.0,
        namespaces=("churn",), notebook="02_churn_early_warning", params_section="churn",
        needs=("clv_model",), tables=("customers", "products", "payments", "tickets", "contacts"),
        exports=(
            Export("churn_risk.csv", en="Every active customer's churn risk and reasons",
                   tr="Her aktif müşterinin kayıp riski ve gerekçeleri"),
            Export("at_risk.csv", en="This week's call list of customers at risk",
                   tr="Risk altındaki müşterilerin bu haftaki arama listesi"),
            Export("winback_campaign.csv",
                   en="Win-back campaign: customers who stayed on the call list for weeks without ordering",
                   tr="Geri kazanım kampanyası: haftalarca arama listesinde kalıp sipariş vermeyen müşteriler"),
            Export("winback.csv",
                   en="Win-back episodes: each listed customer's first listing, weeks on the list and outcome",
                   tr="Geri kazanım dönemleri: listeye alınan her müşterinin ilk listelenişi, listede kaldığı "
                      "hafta ve sonucu"),
            Export("lapsed_products.csv",
                   en="Regular products active customers stopped buying, with the value at stake",
                   tr="Aktif müşterilerin düzenli alıp bıraktığı ürünler ve risk altındaki tutar"),
        ),
    ),
    Practice(
        name="clv", cost=31, memory=1.8,
        namespaces=("clv",), notebook="03_lifetime_value", params_section="clv",
        needs=("clv_model", "rfm_segments"), tables=("customers", "marketing"), order_lines=False,
        columns={"customers": ("customer_id", "name", "channel")},  # crmlib.clv.report.NAME_COLUMNS
        provides={"clv_model": Provider(build="crmlib.clv.model:fit_for_run",
                                        restore="crmlib.clv.model:ClvModel.from_dict", tolerant=True,
                                        tables=(), warm_up="crmlib.clv.fit:lifetimes_module",
                                        order_lines=False)},
        exports=(
            Export("clv.csv", en="Every customer's expected lifetime value",
                   tr="Her müşterinin beklenen yaşam boyu değeri"),
            Export("clv_model.json", en="The fitted lifetime-value model's parameters (for analysts)",
                   tr="Kurulan yaşam boyu değer modelinin parametreleri (analistler için)"),
        ),
    ),
    Practice(
        name="cross_sell", cost=48, memory=2.8,
        namespaces=("xsell",), notebook="04_cross_sell", params_section="cross_sell",
        tables=("products", "customers"),
        exports=(
            Export("cross_sell.csv", en="Product suggestions per customer", tr="Müşteri başına ürün önerileri"),
            Export("association_rules.csv", en="Products bought together (all rules)",
                   tr="Birlikte alınan ürünler (tüm kurallar)"),
            Export("premium_alternatives.csv", en="Premium alternatives to offer (upsell)",
                   tr="Önerilecek üst seçenekler (üst satış)"),
            Export("preseason.csv", en="Pre-season suggestions", tr="Sezon öncesi öneriler"),
        ),
    ),
    Practice(
        name="loyalty", cost=6, memory=1.4,
        namespaces=("loy",), notebook="05_loyalty_and_service", params_section="loyalty",
        tables=("customers", "payments"),
        exports=(
            Export("discount_upsell.csv", en="Customers close to the next volume-discount tier",
                   tr="Bir sonraki hacim indirimi kademesine yakın müşteriler"),
            Export("payment_terms.csv", en="Customers who qualify for longer payment terms",
                   tr="Uzun ödeme vadesine hak kazanan müşteriler"),
            Export("priority_stock.csv", en="Early buyers to tell first about new products",
                   tr="Yeni ürünlerden ilk haberdar edilecek erken alıcılar"),
            Export("special_days.csv", en="Birthdays and anniversaries in the next days",
                   tr="Önümüzdeki günlerdeki doğum günleri ve yıl dönümleri"),
            Export("referral_rewards.csv", en="Referral rewards earned", tr="Kazanılan tavsiye ödülleri"),
        ),
    ),
    Practice(
        name="service", cost=4, memory=0.0,
        namespaces=("svc",), notebook="05_loyalty_and_service", params_section="service",
        needs=("segments",),  # open complaints of priority segments come first
        tables=("tickets", "customers", "contacts"),
        exports=(
            Export("open_complaints.csv", en="Open complaints, oldest first",
                   tr="Açık şikâyetler, en eskiden başlayarak"),
            Export("stale_complaints.csv",
                   en="Complaints that have looked open for very long: check each one, then close or reopen it",
                   tr="Çok uzun süredir açık görünen şikâyetler: her birini kontrol edip kapatın ya da yeniden açın"),
            Export("problem_products.csv", en="Products with recurring complaints",
                   tr="Tekrarlayan şikâyet alan ürünler"),
            Export("review_requests.csv", en="This week's review requests",
                   tr="Bu haftanın değerlendirme talepleri"),
            Export("checkins.csv", en="This week's new-customer check-ins",
                   tr="Bu haftanın yeni müşteri görüşmeleri"),
            Export("complaint_followups.csv", en="This week's after-complaint calls",
                   tr="Bu haftanın şikâyet sonrası aramaları"),
        ),
    ),
)

#: files the runner itself writes to ``exports/`` (not a practice's)
RUN_EXPORTS: tuple[Export, ...] = (
    Export("action_lists.xlsx", en="All action lists of this run in one workbook, one sheet per list",
           tr="Bu çalıştırmanın tüm eylem listeleri tek çalışma kitabında, her liste bir sayfada"),
)


def practice(name: str) -> Practice:
    """The practice called ``name`` (KeyError if there is none)."""
    for entry in PRACTICES:
        if entry.name == name:
            return entry
    raise KeyError(f"no practice {name!r} in the registry; known: {', '.join(p.name for p in PRACTICES)}")


def notebooks() -> tuple[str, ...]:
    """Every notebook stem, in run order (a notebook may show several practices)."""
    return tuple(sorted({p.notebook for p in PRACTICES}))


#: the project's notebooks folder
NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"


def notebooks_in(folder: Path = NOTEBOOKS_DIR) -> tuple[str, ...]:
    """The stems of the numbered notebooks in ``folder`` (``03_lifetime_value``), in run order."""
    return tuple(p.stem for p in sorted(Path(folder).glob("[0-9][0-9]_*.ipynb")))


def select_notebooks(only: list[str] | None, *, available: tuple[str, ...] | None = None) -> list[str]:
    """Map ``--only`` names (without their number) to notebook stems of ``available`` (default: every notebook
    of the registry), in run order; unknown names are a ParamsError."""
    available = notebooks() if available is None else available
    if not only:
        return list(available)
    by_name = {stem.split("_", 1)[1]: stem for stem in available}
    chosen = []
    for name in only:
        key = name.removesuffix(".ipynb")
        stem = by_name.get(key) or (key if key in available else None)
        if stem is None:
            close = did_you_mean(key, list(by_name))
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ParamsError(f"--only {name!r} is not a notebook.{hint} Choose from: {', '.join(by_name)}.")
        if stem not in chosen:
            chosen.append(stem)
    return [stem for stem in available if stem in chosen]


def notebook_costs() -> dict[str, float]:
    """``{notebook stem: expected share of the run's notebook time}`` (its practices' ``cost`` summed)."""
    costs: dict[str, float] = {}
    for p in PRACTICES:
        costs[p.notebook] = costs.get(p.notebook, 0.0) + p.cost
    return costs


def notebook_memory() -> dict[str, float]:
    """``{notebook stem: its kernel's peak GB on the 10M-line benchmark}`` (its practices' ``memory`` summed)."""
    memory: dict[str, float] = {}
    for p in PRACTICES:
        memory[p.notebook] = memory.get(p.notebook, 0.0) + p.memory
    return memory


def params_sections() -> dict[str, str]:
    """``{params section: params module}`` of the practices that have a section, in registry order."""
    return {p.params_section: p.params_module for p in PRACTICES if p.params_section}


def notebooks_needing(product: str) -> set[str]:
    """Stems of the notebooks whose practices need ``product`` (``"segments"``, ``"clv_model"``)."""
    return {p.notebook for p in PRACTICES if product in p.needs}


def _readers(stems: Iterable[str]) -> list[Practice | Provider]:
    """The practices of the notebooks ``stems`` and the providers of what they need: what reads the data."""
    stems = set(stems)
    chosen = [p for p in PRACTICES if p.notebook in stems]
    found = providers()
    return [*chosen, *(found[need] for p in chosen for need in p.needs if need in found)]


def tables_read(stems: Iterable[str]) -> set[str] | None:
    """The optional input tables the notebooks ``stems`` read: their practices' ``tables`` and those of the
    providers of what the practices need. ``None`` when one of them reads every table."""
    sources = [r.tables for r in _readers(stems)]
    if any(source is None for source in sources):
        return None
    return {name for source in sources for name in source or ()}


def columns_read(stems: Iterable[str]) -> dict[str, set[str]]:
    """``{table: the columns read}`` of the optional tables the notebooks ``stems`` read in only some columns:
    their practices' ``columns`` and those of the providers of what they need (as :func:`tables_read`). A table
    read whole by one of them, or by a practice that reads every table, is not named."""
    readers = _readers(stems)
    if any(r.tables is None for r in readers):
        return {}
    out: dict[str, set[str]] = {}
    whole: set[str] = set()
    for reader in readers:
        for table in reader.tables or ():
            if reader.columns.get(table) is None:
                whole.add(table)
            else:
                out.setdefault(table, set()).update(reader.columns[table] or ())
    return {table: names for table, names in out.items() if table not in whole}


def reads_order_lines(stems: Iterable[str]) -> bool:
    """Whether the notebooks ``stems`` read the order lines: one of their practices, or a provider of what the
    practices need, says so (``order_lines``)."""
    return any(r.order_lines for r in _readers(stems))


def providers() -> dict[str, Provider]:
    """``{product: provider}`` over every practice."""
    return {name: prov for p in PRACTICES for name, prov in p.provides.items()}


def provider(product: str) -> Provider:
    """The provider of ``product`` (KeyError naming the known products if none provides it)."""
    found = providers()
    if product not in found:
        raise KeyError(f"no practice provides {product!r}; provided: {', '.join(found)}")
    return found[product]


def exports() -> tuple[Export, ...]:
    """Every registered export: the practices' and the runner's."""
    return tuple(e for p in PRACTICES for e in p.exports) + RUN_EXPORTS


def export_descriptions(lang: str) -> dict[str, str]:
    """``{file name: description in lang}`` of every registered export (for the run index)."""
    return {e.file: e.description(lang) for e in exports()}


def column_units(ns: str) -> dict[str, str]:
    """The column-unit map (``UNITS`` of the practice's ``report.py``) for tables of catalogue namespace ``ns``.

    ``{}`` when no practice has the namespace or its report module declares no ``UNITS``.
    """
    for entry in PRACTICES:
        if ns in entry.namespaces:
            try:
                return dict(load(f"{entry.package}.report:UNITS"))
            except (ImportError, AttributeError):
                return {}
    return {}


def load(target: str) -> Any:
    """Import ``"package.module:attribute.path"`` and return the attribute (the module without ``:``)."""
    module_name, _, attribute = target.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in filter(None, attribute.split(".")):
        obj = getattr(obj, part)
    return obj
