"""The faster loyalty and service paths give what the earlier code gave (old vs new on random frames with ties)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlib.data.frames import require_columns
from crmlib.errors import ParamsError
from crmlib.loyalty.offers import contact_person, without_lapsed
from crmlib.loyalty.params import DEFAULTS
from crmlib.loyalty.programme import referral_rewards
from crmlib.loyalty.report import special_day_calls
from crmlib.report.display import mask_contacts
from crmlib.service.report import with_contacts


def _old_without_lapsed(frame, lapsed_ids, *, id_column="customer_id"):
    keep = ~frame[id_column].astype(str).isin({str(c) for c in lapsed_ids})
    return frame.loc[keep].reset_index(drop=True)


def _old_with_contacts(frame, customers, *, mask, id_column="customer_id", columns=("name", "phone", "email")):
    present = [c for c in columns if c in customers.columns]
    info = customers.assign(customer_id=customers["customer_id"].astype(str)).drop_duplicates("customer_id")
    info = mask_contacts(info.set_index("customer_id")[present], enabled=mask)
    out = frame.copy()
    at = list(out.columns).index(id_column) + 1
    for offset, col in enumerate(present):
        out.insert(at + offset, col, info[col].reindex(out[id_column].astype(str)).to_numpy())
    return out


def _customers(rng: np.random.Generator, n: int) -> pd.DataFrame:
    ids = [f"C{i:03d}" for i in rng.integers(0, n, n)]  # repeated ids: the first row wins
    names = rng.choice(["Ali Kaya - Kaya Gıda", "Ayşe Demir", "Firma 1 Ltd. Şti.", "Veli Can – Can A.Ş.", None,
                        "Mehmet Öz", "Öz Holding"], n)
    phones = rng.choice(["+90 5321234567", None, "0212 555 44 33"], n)
    emails = rng.choice(["a@b.com.tr", None, "info@firma.com"], n)
    return pd.DataFrame({"customer_id": pd.array(ids, dtype="str"), "name": pd.array(names, dtype="str"),
                         "phone": pd.array(phones, dtype="str"), "email": pd.array(emails, dtype="str")})


@pytest.mark.parametrize("seed", range(6))
def test_with_contacts_matches_the_whole_table_lookup(seed: int) -> None:
    rng = np.random.default_rng(seed)
    customers = _customers(rng, 40)
    frame = pd.DataFrame({"customer_id": [f"C{i:03d}" for i in rng.integers(0, 50, 25)],
                          "value": rng.integers(0, 3, 25)})
    for mask in (False, True):
        for cols in (("name", "phone", "email"), ("name",), ("phone",)):
            for part in (frame, frame.head(0), frame.head(1)):
                pd.testing.assert_frame_equal(with_contacts(part, customers, mask=mask, columns=cols),
                                              _old_with_contacts(part, customers, mask=mask, columns=cols))


@pytest.mark.parametrize("seed", range(6))
def test_without_lapsed_matches_text_set_lookup(seed: int) -> None:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"customer_id": pd.array([f"C{i}" for i in rng.integers(0, 20, 30)] + [None, "nan"],
                                                  dtype="str"), "x": np.arange(32)})
    lapsed = pd.Series(pd.array([f"C{i}" for i in rng.integers(0, 20, 10)] + [None], dtype="str"))
    for ids in (lapsed, lapsed.dropna(), list(lapsed.dropna()), lapsed.head(0)):
        pd.testing.assert_frame_equal(without_lapsed(frame, ids), _old_without_lapsed(frame, ids))


def _old_referral_rewards(  # the earlier code, verbatim

    customers: pd.DataFrame,
    customer_summary: pd.DataFrame,
    *,
    reward: float | None = DEFAULTS["referral_reward"],
    share: float = DEFAULTS["referral_reward_share"],
    orders: pd.DataFrame | None = None,
    payments: pd.DataFrame | None = None,
    as_of: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """The earlier implementation (per-group Python sums)."""
    require_columns(customers, ("customer_id", "referred_by"), "customers")
    require_columns(customer_summary, ("customer_id", "first_order_date"), "customer_summary")
    ref = customers[["customer_id", "referred_by"]].dropna()
    ref = ref.assign(referred_by=ref["referred_by"].astype(str).str.strip())
    ref = ref[(ref["referred_by"] != "") & (ref["referred_by"] != ref["customer_id"])]
    first = customer_summary.set_index("customer_id")["first_order_date"]
    ref = ref.assign(first_order_date=ref["customer_id"].map(first))
    ref = ref.assign(ordered=ref["first_order_date"].notna())
    columns = ["referrer_id", "referred", "referred_ordered", "first_orders", "reward", "reward_payable",
               "reward_pending", "referred_ids", "last_first_order"]
    if ref.empty:
        return pd.DataFrame(columns=columns)
    if reward is None and orders is None:
        raise ParamsError("loyalty.referral_reward is null (a share of the first order) but no orders were "
                          "given to measure the first order; pass orders or set a fixed loyalty.referral_reward.")
    if orders is not None:
        require_columns(orders, ("customer_id", "order_date", "amount"), "orders")
        bought = orders[orders["is_purchase"].astype(bool)] if "is_purchase" in orders else orders[orders["amount"] > 0]
        firsts = bought.sort_values(["customer_id", "order_date"], kind="stable").drop_duplicates("customer_id")
        ref = ref.assign(first_order=ref["customer_id"].map(firsts.set_index("customer_id")["amount"]).astype(float))
    else:
        ref = ref.assign(first_order=np.nan)
    each = float(reward) if reward is not None else float(share) * ref["first_order"].fillna(0.0)
    ref = ref.assign(reward=np.where(ref["ordered"], each, 0.0))
    if payments is not None and "paid_date" in payments.columns:
        cut = pd.Timestamp(as_of) if as_of is not None else payments["paid_date"].max()
        payers = set(payments.loc[payments["paid_date"].notna() & (payments["paid_date"] <= cut), "customer_id"])
        paid = ref["customer_id"].isin(payers)
        ref = ref.assign(reward_payable=ref["reward"].where(paid, 0.0), reward_pending=ref["reward"].where(~paid, 0.0))
    else:
        ref = ref.assign(reward_payable=np.nan, reward_pending=np.nan)
    ordered = ref[ref["ordered"]].sort_values("first_order_date")
    out = ref.groupby("referred_by").agg(
        referred=("customer_id", "size"), referred_ordered=("ordered", "sum"),
        first_orders=("first_order", lambda v: v.sum(min_count=1)), reward=("reward", "sum"),
        reward_payable=("reward_payable", lambda v: v.sum(min_count=1)),
        reward_pending=("reward_pending", lambda v: v.sum(min_count=1)))
    out["referred_ids"] = ordered.groupby("referred_by")["customer_id"].agg(", ".join)
    out["last_first_order"] = ordered.groupby("referred_by")["first_order_date"].max()
    out["referred_ordered"] = out["referred_ordered"].astype(int)
    out = out[out["referred_ordered"] > 0].rename_axis("referrer_id").reset_index()
    return out.sort_values(["reward", "referrer_id"], ascending=[False, True], ignore_index=True)[columns]


@pytest.mark.parametrize("seed", range(6))
def test_referral_rewards_match_per_group_sums(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 60
    ids = [f"C{i:03d}" for i in range(n)]
    customers = pd.DataFrame({"customer_id": ids,
                              "referred_by": [rng.choice([*ids[:8], None, ""]) for _ in range(n)]})
    summary = pd.DataFrame({"customer_id": ids,
                            "first_order_date": pd.to_datetime("2024-01-01")
                            + pd.to_timedelta(rng.integers(0, 5, n), "D")})
    summary.loc[rng.random(n) < 0.3, "first_order_date"] = pd.NaT
    orders = pd.DataFrame({"customer_id": rng.choice(ids, 200), "order_date": pd.to_datetime("2024-01-01")
                           + pd.to_timedelta(rng.integers(0, 5, 200), "D"),
                           "amount": rng.choice([10.0, 20.5, -3.0, 7.25], 200)})
    payments = pd.DataFrame({"customer_id": rng.choice(ids, 40),
                             "paid_date": pd.to_datetime("2024-02-01") + pd.to_timedelta(rng.integers(0, 9, 40), "D")})
    for kwargs in ({"reward": None, "orders": orders, "payments": payments},
                   {"reward": 50.0, "orders": None, "payments": None}, {"reward": 25.0, "orders": orders}):
        got = referral_rewards(customers, summary, as_of=pd.Timestamp("2024-02-05"), **kwargs)
        expected = _old_referral_rewards(customers, summary, as_of=pd.Timestamp("2024-02-05"), **kwargs)
        assert len(got) > 0
        pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-12)


def test_special_day_contacts_only_for_listed_customers() -> None:
    rng = np.random.default_rng(3)
    customers = _customers(rng, 30)
    special = pd.DataFrame({"customer_id": rng.choice(customers["customer_id"].unique(), 12),
                            "occasion": rng.choice(["birthday", "anniversary"], 12),
                            "date": pd.Timestamp("2024-03-01"), "years": rng.integers(1, 4, 12),
                            "days_until": rng.integers(0, 7, 12)})
    got = special_day_calls(special, customers, lang="tr")
    people = contact_person(customers)
    expected = special.assign(contact_person=special["customer_id"].map(people))
    expected = expected.loc[(expected["occasion"] != "birthday") | expected["contact_person"].notna()]
    pd.testing.assert_series_equal(got["contact_person"], expected["contact_person"].reset_index(drop=True))


@pytest.mark.parametrize("lang", ["tr", "en"])
def test_special_day_messages_match_the_row_by_row_loop(lang: str) -> None:
    from crmlib.report import i18n

    rng = np.random.default_rng(5)
    customers = _customers(rng, 30)
    special = pd.DataFrame({"customer_id": rng.choice(customers["customer_id"].unique(), 20),
                            "occasion": rng.choice(["birthday", "anniversary"], 20),
                            "date": pd.Timestamp("2024-03-01"), "years": rng.integers(1, 4, 20),
                            "days_until": rng.integers(0, 7, 20)})
    got = special_day_calls(special, customers, lang=lang)
    names = customers.drop_duplicates("customer_id").set_index("customer_id")["name"]
    out = special.assign(contact_person=special["customer_id"].map(contact_person(customers)))
    out = out.loc[(out["occasion"] != "birthday") | out["contact_person"].notna()]
    expected = []
    for _, row in out.iterrows():
        person = row["contact_person"] if isinstance(row["contact_person"], str) else ""
        firm = names.get(row["customer_id"])
        n = int(row["years"])
        years = i18n.t("loy.years.one" if n == 1 else "loy.years.other", lang, n=n)
        expected.append(i18n.t(f"loy.message.{row['occasion']}" + ("" if person else "_team"), lang, person=person,
                               years=years, ordinal=f"{n}.", company=firm if isinstance(firm, str) else ""))
    assert len(expected) > 0
    assert got["message"].tolist() == expected
