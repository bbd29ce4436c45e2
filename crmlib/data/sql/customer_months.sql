-- One row per customer and calendar month with an order up to as_of: the input of the monthly KPI table and
-- the cohort chart. month_no = year * 12 + month - 1. Input views  orders(...) as built by orders.sql,
-- run_params(as_of DATE). n_purchases and purchase_revenue count purchase orders (is_purchase); revenue is
-- net (every order); first_purchase_month is the customer's first purchase month overall (NULL without one).
WITH cut AS (
    SELECT o.customer_id, o.amount, o.is_purchase, YEAR(o.order_date) * 12 + MONTH(o.order_date) - 1 AS month_no
    FROM orders o CROSS JOIN run_params p
    WHERE o.order_date <= p.as_of
),
firsts AS (
    SELECT customer_id, MIN(month_no) AS first_purchase_month FROM cut WHERE is_purchase GROUP BY customer_id
)
SELECT
    c.customer_id,
    c.month_no,
    COUNT(CASE WHEN c.is_purchase THEN 1 END)                      AS n_purchases,
    SUM(c.amount)                                                  AS revenue,
    SUM(CASE WHEN c.is_purchase THEN c.amount ELSE 0 END)          AS purchase_revenue,
    COUNT(*)                                                       AS n_orders,
    MIN(f.first_purchase_month)                                    AS first_purchase_month
FROM cut c
LEFT JOIN firsts f ON f.customer_id = c.customer_id
GROUP BY c.customer_id, c.month_no
