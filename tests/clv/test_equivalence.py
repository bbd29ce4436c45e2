"""Old against new: the CLV computations rewritten for speed give the previous results bit for bit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlib import clv
from crmlib.clv import fit as clv_fit
from crmlib.clv import ranges


def _customers(n: int, *, seed: int) -> pd.DataFrame:
    """BG/NBD purchase days (CDNOW-like parameters: r 0.24, alpha 31 days, a 0.79, b 2.43) over ages of 30 to
    400 whole days, Gamma-Gamma spend rounded to whole amounts: ties in x, t_x, T and m, one-time buyers."""
    rng = np.random.default_rng(seed)
    age = rng.integers(30, 400, n).astype(float)
    lam, drop = rng.gamma(0.24, 1 / 31.0, n), rng.beta(0.79, 2.43, n)
    x, last, spent = np.zeros(n, int), np.zeros(n), np.zeros(n)
    now, active = np.zeros(n), np.ones(n, bool)
    while active.any():
        i = np.flatnonzero(active)
        now[i] = np.ceil(now[i] + rng.exponential(1 / lam[i]))
        seen = i[now[i] <= age[i]]
        x[seen] += 1
        last[seen] = now[seen]
        spent[seen] += np.round(rng.gamma(6.25, 15.44 / 2.74, len(seen)))
        active[i[now[i] > age[i]]] = False
        active[i[rng.random(len(i)) < drop[i]]] = False
    return pd.DataFrame({"customer_id": [f"c{k}" for k in range(n)], "frequency": x, "recency": last, "T": age,
                         "monetary_value": np.where(x > 0, spent / np.maximum(x, 1), 0.0)})


@pytest.mark.parametrize("n", [1, 2, 3, 10, 199, 200, 201, 1000])
def test_row_percentiles_are_numpys(n):
    """Sorted rows with numpy's linear interpolation give np.percentile(axis=1) bit for bit: ties, zeros,
    infinities and rows with NaN included."""
    rng = np.random.default_rng(n)
    for trial in range(12):
        values = np.round(rng.gamma(0.5, 10.0, size=(40, n)), trial % 3) * (rng.random((40, n)) < 0.6)
        if trial % 4 == 0:
            values[3, rng.integers(n)] = np.nan
        if trial % 5 == 0:
            values[4, :] = np.inf
        for q in ([10.0, 90.0], [0.0, 2.5, 50.0, 97.5, 100.0]):
            with np.errstate(invalid="ignore"):  # inf - inf in the interpolation, numpy's as well
                expected = np.percentile(values, q, axis=1)
                got = ranges.row_percentiles(values.copy(), q)
            assert np.array_equal(got, expected, equal_nan=True), (n, trial, q)


def _previous_total_mean(model, fitter, d, names, x, tx, T, m, weights):  # noqa: N803
    """The total's expectation per draw as computed before (every derivative with its own expected purchases)."""
    kind = getattr(model, "purchase_kind_", "bgnbd")

    def mean_total(bg, gg):
        with np.errstate(all="ignore"):
            orders = ranges._expected_orders(kind, fitter, bg, names, x, tx, T, d.horizon)
        if gg is None:
            value = np.where((x > 0) & (m > 0), m, float(model.fallback_value_))
        else:
            p, q, v = gg
            weight = p * x / (p * x + q - 1)
            value = (1 - weight) * (v * p / (q - 1)) + weight * m
        return float(np.sum(weights * orders * value))

    bg0 = np.array([float(fitter.params_[k]) for k in names])
    gg0 = None if d.gg is None else np.array([float(model.gamma_gamma_.params_[k]) for k in ("p", "q", "v")])
    base = mean_total(bg0, gg0)
    step = 1e-4
    grad_bg = np.array([(mean_total(bg0 * np.exp(step * np.eye(4)[k]), gg0) - base) / step for k in range(4)])
    mean = base + (np.log(d.bg) - np.log(bg0)) @ grad_bg
    if d.gg is not None:
        grad_gg = np.array([(mean_total(bg0, gg0 * np.exp(step * np.eye(3)[k])) - base) / step for k in range(3)])
        mean = mean + (np.log(d.gg) - np.log(gg0)) @ grad_gg
    return mean


@pytest.mark.parametrize("kind", ["bgnbd", "mbgnbd"])
def test_total_mean_is_the_previous_computation(kind):
    summary = _customers(3000, seed=4)
    model = clv.fit_clv(summary, {"value": "revenue"}).use_purchase_model(kind, summary)
    lt = clv.lifetimes_summary(summary, time_unit="W")
    (x, tx, age, m), weights, _ = clv.patterns([lt[c].to_numpy(float)
                                                for c in ["frequency", "recency", "T", "monetary_value"]])
    rng = np.random.default_rng(0)
    names = ["r", "alpha", "a", "b"]
    fitter = model.purchase_fitter
    d = ranges._Draws(kind, ranges._param_draws(fitter, names, 50, rng),
                      ranges._param_draws(model.gamma_gamma_, ["p", "q", "v"], 50, rng),
                      float(model.fallback_value_), 30.0)
    w = weights.astype(float)
    assert np.array_equal(ranges._total_mean(model, fitter, d, names, x, tx, age, m, w),
                          _previous_total_mean(model, fitter, d, names, x, tx, age, m, w))


def test_simulation_does_not_depend_on_the_order_of_the_work():
    """One thread or two, one block or several: each draw comes from its own stream."""
    summary = _customers(2500, seed=6)
    model = clv.fit_clv(summary, {"value": "revenue"})
    lt = clv.lifetimes_summary(summary, time_unit="W")
    old_chunk = ranges.CHUNK
    try:
        ranges.CHUNK = 700
        one = ranges.simulate_spend(model, lt, horizon=20.0, draws=80, seed=2, workers=1)
        two = ranges.simulate_spend(model, lt, horizon=20.0, draws=80, seed=2, workers=2)
    finally:
        ranges.CHUNK = old_chunk
    for a, b in zip(one, two, strict=True):
        assert np.array_equal(a, b)


def test_expected_purchases_at_several_horizons_are_the_single_horizon_ones():
    summary = _customers(4000, seed=8)
    model = clv.fit_clv(summary, {"value": "revenue"})
    lt = clv.lifetimes_summary(summary, time_unit="W")
    x, tx, age = (lt[c].to_numpy(float) for c in ["frequency", "recency", "T"])
    times = [4.3, 8.7, 13.0, 52.18]
    many = clv_fit.bgnbd_expected_purchases_at(model.bgnbd_, times, x, tx, age)
    for t, values in zip(times, many, strict=True):
        assert np.array_equal(values, clv_fit.bgnbd_expected_purchases(model.bgnbd_, t, x, tx, age))


@pytest.mark.parametrize("kind", ["bgnbd", "mbgnbd"])
def test_clv_table_is_the_single_predictions(kind):
    """clv_table shares the prepared inputs and the month ends' expected purchases; each column equals the
    model's own prediction on the per-customer table, bit for bit."""
    summary = _customers(3000, seed=10)
    model = clv.fit_clv(summary, {"value": "revenue"}).use_purchase_model(kind, summary)
    table = clv.clv_table(model, summary, horizon_days=365, annual_discount_rate=0.1)
    ends, factors = clv.monthly_schedule(365, 0.1)
    lt = clv.lifetimes_summary(summary, time_unit="W")
    x, tx, age = (lt[c].to_numpy(float) for c in ["frequency", "recency", "T"])
    cumulative = [np.zeros(len(x))] + [model._expected(e / 7.0, x, tx, age) for e in ends]
    orders = sum(f * (cumulative[k + 1] - cumulative[k]) for k, f in enumerate(factors))
    value = model._order_value(x, lt["monetary_value"].to_numpy(float))
    assert np.array_equal(table["clv"].to_numpy(), orders * value * model.margin_rate_)
    assert np.array_equal(table["p_alive"].to_numpy(), model.probability_alive(summary).to_numpy())
    assert np.array_equal(table["expected_orders"].to_numpy(),
                          model.expected_orders(summary, horizon_days=365).to_numpy())
    assert np.array_equal(table["expected_order_value"].to_numpy(), model.expected_order_value(summary).to_numpy())
    assert model._held is None


def _previous_patterns(columns):
    arrays = [np.asarray(c) for c in columns]
    n = len(arrays[0])
    key = np.zeros(n, dtype=np.int64)
    for values in arrays:
        codes, uniques = pd.factorize(values, sort=False)
        key, _ = pd.factorize(key * len(uniques) + codes, sort=False)
    codes = key.astype(np.int64)
    k = int(codes.max()) + 1 if n else 0
    first = np.empty(k, dtype=np.int64)
    first[codes[::-1]] = np.arange(n - 1, -1, -1)
    return [values[first] for values in arrays], np.bincount(codes, minlength=k).astype(np.int64), codes


@pytest.mark.parametrize("n", [0, 1, 7, 5000])
def test_patterns_with_one_combined_key_are_the_previous_ones(n):
    rng = np.random.default_rng(n)
    cols = [rng.integers(0, 30, n), np.round(rng.random(n) * 50, 0) / 7, rng.integers(0, 400, n) / 7.0,
            np.round(rng.gamma(2.0, 30.0, n), 0)]
    for k in (1, 2, 3, 4):
        ours, theirs = clv.patterns(cols[:k]), _previous_patterns(cols[:k])
        for a, b in zip(ours[0], theirs[0], strict=True):
            assert np.array_equal(a, b)
        assert np.array_equal(ours[1], theirs[1]) and np.array_equal(ours[2], theirs[2])


@pytest.mark.parametrize("kind", ["bgnbd", "mbgnbd", "pareto"])
def test_simulation_in_sub_blocks_is_the_whole_block_one(kind, monkeypatch):
    """Customers computed a few at a time inside a block: the same uniform draws, the same ranges."""
    summary = _customers(1500, seed=12)
    model = clv.fit_clv(summary, {"value": "revenue"}).use_purchase_model(kind, summary)
    lt = clv.lifetimes_summary(summary, time_unit="W")
    monkeypatch.setattr(ranges, "SUB", 10 ** 9)
    whole = ranges.simulate_spend(model, lt, horizon=26.0, draws=60, seed=4)
    monkeypatch.setattr(ranges, "SUB", 37)
    parts = ranges.simulate_spend(model, lt, horizon=26.0, draws=60, seed=4)
    for a, b in zip(whole, parts, strict=True):
        assert np.array_equal(a, b)


def _previous_sorted_codes(ids: pd.Series):
    """``crmlib.clv.data._sorted_codes`` before the sorted ids' fast path."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(ids.dtype, pd.StringDtype) and ids.dtype.storage == "pyarrow":
        encoded = pc.dictionary_encode(pa.array(ids.array))
        if isinstance(encoded, pa.ChunkedArray):
            encoded = encoded.combine_chunks()
        order = pc.array_sort_indices(encoded.dictionary).to_numpy()
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        indices = encoded.indices
        codes = np.full(len(ids), -1, dtype=np.int64)
        valid = indices.is_valid().to_numpy(zero_copy_only=False)
        codes[valid] = rank[indices.drop_null().to_numpy()]
        return codes, pd.Index(pd.array(encoded.dictionary.take(pa.array(order)), dtype=ids.dtype))
    codes, uniques = pd.factorize(ids, sort=True)
    return np.asarray(codes, dtype=np.int64), pd.Index(uniques)


def _previous_purchase_days(orders: pd.DataFrame):
    """``crmlib.clv.data._purchase_days`` before the sorted ids' and keys' fast paths."""
    buy = orders["is_purchase"].astype(bool) if "is_purchase" in orders.columns else orders["amount"] > 0
    frame = orders.loc[buy, ["customer_id", "order_date", "amount"]]
    codes, ids = _previous_sorted_codes(frame["customer_id"])
    when = pd.to_datetime(frame["order_date"]).dt.normalize().to_numpy()
    day = when.astype("datetime64[D]").astype(np.int64)
    keep = codes >= 0
    codes, day, amount, missing = codes[keep], day[keep], frame["amount"].to_numpy()[keep], np.isnat(when[keep])
    if not len(codes) or missing.all():
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=amount.dtype), ids
    low = int(day[~missing].min())
    span = int(day[~missing].max()) - low + 1
    key = codes * span + (day - low)
    if missing.any():
        key = pd.array(key, dtype="Int64")
        key[missing] = pd.NA
    sums = pd.Series(amount).groupby(key, sort=True).sum()
    key = sums.index.to_numpy(dtype=np.int64)
    return key // span, key % span + low, sums.to_numpy(), ids


def _orders(n: int, *, seed: int, arrow: bool = True) -> pd.DataFrame:
    """Orders sorted by customer and day, as the orders table comes: several orders on a day, returns
    (not purchases), amounts with -0.0, NaN and many decimals."""
    rng = np.random.default_rng(seed)
    ids = np.sort(rng.choice([f"c{k:05d}" for k in range(max(1, n // 4))] + ["C1", "c", "ç9"], n))
    day = np.datetime64("2023-01-01") + rng.integers(0, 700, n).astype("timedelta64[D]")
    frame = pd.DataFrame({"customer_id": ids, "order_date": day.astype("datetime64[ns]"),
                          "amount": rng.gamma(2.0, 50.0, n)})
    frame["amount"] = np.where(rng.random(n) < 0.5, frame["amount"].round(2), frame["amount"])
    frame = frame.sort_values(["customer_id", "order_date"], kind="stable").reset_index(drop=True)
    frame.loc[rng.random(n) < 0.05, "amount"] *= -1
    frame.loc[rng.random(n) < 0.01, "amount"] = -0.0
    frame["is_purchase"] = frame["amount"] > 0
    frame.loc[rng.random(n) < 0.01, "amount"] = np.nan
    frame["customer_id"] = frame["customer_id"].astype("str" if arrow else object)
    return frame


@pytest.mark.parametrize("case", ["sorted", "shuffled", "object_ids", "missing", "no_flag", "one"])
def test_purchase_days_and_calibration_split_are_the_previous_ones(case, monkeypatch):
    from crmlib.clv import data

    orders = _orders(1 if case == "one" else 6000, seed=7, arrow=case != "object_ids")
    if case == "shuffled":
        orders = orders.sample(frac=1.0, random_state=1).reset_index(drop=True)
    if case == "missing":
        orders.loc[orders.index[::97], "order_date"] = pd.NaT
        orders.loc[orders.index[5::89], "customer_id"] = pd.NA
    if case == "no_flag":
        orders = orders.drop(columns="is_purchase")
    got, expected = data._purchase_days(orders), _previous_purchase_days(orders)
    for a, b in zip(got[1:3], expected[1:3], strict=True):  # days and sums
        assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)
    # the codes count every order's customers now: the same customer on each row, in the same order
    assert got[0].dtype == expected[0].dtype and np.all(np.diff(got[0]) >= 0) == np.all(np.diff(expected[0]) >= 0)
    pd.testing.assert_index_equal(got[3].take(got[0]), expected[3].take(expected[0]), exact=True)
    split = {"calibration_end": "2024-06-30", "holdout_end": "2024-11-30", "time_unit": "W"}
    new = clv.calibration_holdout(orders, **split)
    monkeypatch.setattr(data, "_purchase_days", _previous_purchase_days)
    pd.testing.assert_frame_equal(new, clv.calibration_holdout(orders, **split), check_exact=True)


@pytest.mark.parametrize("n", [0, 1, 50, 5000])
def test_frequency_groups_by_position_are_the_labels_ones(n):
    from crmlib.clv import analysis

    rng = np.random.default_rng(n)
    x = rng.poisson(2.0, n) * rng.integers(0, 2, n) + (rng.random(n) < 0.05) * 12
    values = pd.DataFrame({"pred": rng.gamma(1.0, 1.3, n), "actual": rng.poisson(0.7, n).astype(float)})
    expected_column = pd.DataFrame({"group": analysis.frequency_group(x)})["group"]
    got_column = pd.Series(analysis._group_column(x), name="group")
    pd.testing.assert_series_equal(got_column, expected_column, check_exact=True)
    frame = values.assign(group=expected_column)
    grouped = frame.groupby("group", sort=False)
    expected = grouped[["pred", "actual"]].mean()
    expected.insert(0, "n_customers", grouped.size())
    expected = expected.reindex([g for g in analysis.GROUPS if g in expected.index])
    codes = analysis._group_codes(x)
    assert (codes is None) == (n == 0)
    grouped = frame.groupby(frame["group"] if codes is None else codes, sort=False)
    got = grouped[["pred", "actual"]].mean()
    got.insert(0, "n_customers", grouped.size())
    if codes is not None:
        got.index = [analysis.GROUPS[i] for i in got.index]
    got = got.reindex([g for g in analysis.GROUPS if g in got.index])
    expected.index.name = got.index.name = "group"  # as holdout_validation names them
    pd.testing.assert_frame_equal(got.reset_index(), expected.reset_index(), check_exact=True)


def _previous_top_customers(table, customer_summary, *, n, customers=None):
    """``crmlib.clv.analysis.top_customers`` before the positions' fast path."""
    top = table.nlargest(n, "clv")
    summary = customer_summary.loc[customer_summary["customer_id"].isin(top["customer_id"]),
                                   ["customer_id", "revenue", "n_orders", "recency_days"]]
    out = top.merge(summary, on="customer_id", how="left")
    if customers is not None and "name" in customers.columns:
        known = customers.loc[customers["customer_id"].isin(top["customer_id"])]
        names = known.drop_duplicates("customer_id").set_index("customer_id")["name"]
        out.insert(1, "name", out["customer_id"].map(names))
    cols = [c for c in ["customer_id", "name", "revenue", "n_orders", "recency_days", "p_alive", "expected_orders",
                        "expected_order_value", "clv"] if c in out.columns]
    return out[cols].reset_index(drop=True)


@pytest.mark.parametrize("case", ["aligned", "shuffled", "object_ids", "fewer"])
@pytest.mark.parametrize("n", [1, 20, 500])
def test_top_customers_are_the_previous_ones(case, n):
    from crmlib.clv import analysis

    rng = np.random.default_rng(n)
    size = 300
    ids = pd.Series([f"c{k:04d}" for k in range(size)], dtype="str" if case != "object_ids" else object)
    summary = pd.DataFrame({"customer_id": ids, "revenue": rng.gamma(1.0, 100.0, size).round(0),
                            "n_orders": rng.integers(1, 9, size), "recency_days": rng.integers(0, 400, size),
                            "other": rng.random(size)})
    table = pd.DataFrame({"customer_id": ids, "p_alive": rng.random(size),
                          "expected_orders": rng.random(size), "expected_order_value": rng.random(size),
                          "clv": rng.gamma(0.5, 50.0, size).round(0)})  # ties
    table.loc[::37, "clv"] = np.nan
    if case == "shuffled":
        table = table.sample(frac=1.0, random_state=2).reset_index(drop=True)
    if case == "fewer":
        table = table.iloc[::2]
    customers = pd.DataFrame({"customer_id": pd.concat([ids, ids.iloc[::5]]).to_numpy(),
                              "name": [f"n{k}" for k in range(size + len(ids.iloc[::5]))]})
    for names in (None, customers):
        got = analysis.top_customers(table, summary, n=n, customers=names)
        expected = _previous_top_customers(table, summary, n=n, customers=names)
        pd.testing.assert_frame_equal(got, expected, check_exact=True)
