-- One row per customer with at least one purchase on or before as_of. All durations in days.
-- Input views  orders(...) as built by orders.sql,  run_params(as_of DATE)
-- days_between(a, b) = whole days from a to b (DuckDB: a macro over date_diff; Spark: datediff(b, a)).
-- frequency, recency, T and monetary_value follow Fader, Hardie & Lee (2005): repeat purchase days,
-- first-to-last purchase day, first purchase day to as_of, mean amount of the repeat purchase days.
WITH cut AS (
    SELECT o.customer_id, o.order_date, o.amount, o.returns_amount, o.cost, o.margin, o.is_purchase
    FROM orders o CROSS JOIN run_params p WHERE o.order_date <= p.as_of
),
purchase_days AS (
    SELECT customer_id, order_date AS day, SUM(amount) AS day_amount, COUNT(*) AS day_orders
    FROM cut WHERE is_purchase
    GROUP BY customer_id, order_date
),
numbered AS (
    SELECT
        customer_id, day, day_amount, day_orders,
        ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY day) AS day_no,
        days_between(LAG(day) OVER (PARTITION BY customer_id ORDER BY day), day) AS gap
    FROM purchase_days
),
per_day AS (
    SELECT
        customer_id,
        MIN(day)                                                   AS first_order_date,
        MAX(day)                                                   AS last_order_date,
        SUM(day_orders)                                            AS n_orders,
        COUNT(*)                                                   AS n_order_days,
        SUM(day_amount) / SUM(day_orders)                          AS avg_order_value,
        AVG(gap)                                                   AS mean_gap_days,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY gap)           AS median_gap_days,
        COALESCE(AVG(CASE WHEN day_no > 1 THEN day_amount END), 0) AS monetary_value
    FROM numbered
    GROUP BY customer_id
),
money AS (
    SELECT
        customer_id,
        SUM(amount)                                                AS revenue,
        SUM(returns_amount)                                        AS returns_amount,
        CASE WHEN COUNT(cost) = COUNT(*) THEN SUM(cost) END        AS cost,
        CASE WHEN COUNT(margin) = COUNT(*) THEN SUM(margin) END    AS margin
    FROM cut
    GROUP BY customer_id
)
SELECT
    d.customer_id,
    d.first_order_date,
    d.last_order_date,
    d.n_orders,
    d.n_order_days,
    m.revenue,
    m.returns_amount,
    m.cost,
    m.margin,
    d.avg_order_value,
    days_between(d.last_order_date, p.as_of)                       AS recency_days,
    days_between(d.first_order_date, p.as_of)                      AS tenure_days,
    d.mean_gap_days,
    d.median_gap_days,
    d.n_order_days - 1                                             AS frequency,
    days_between(d.first_order_date, d.last_order_date)            AS recency,
    days_between(d.first_order_date, p.as_of)                      AS T,
    d.monetary_value
FROM per_day d
JOIN money m ON m.customer_id = d.customer_id
CROSS JOIN run_params p
ORDER BY d.customer_id
