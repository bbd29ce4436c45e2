-- Pre-season candidates: one row per customer and product bought in last year's coming weeks, i.e. in
-- (as_of - 365 days, as_of - 365 days + lead_days], with whether the customer bought it again in the last
-- lead_days up to as_of, and the product's distinct orders in that window and in the year up to as_of.
-- Input views  order_lines(customer_id, order_id, order_date, amount, product_id, quantity),
--              run_params(as_of DATE),  view_params(lead_days INT)
-- A purchase is a line with a positive amount and a product. age = whole days from the line's date to as_of.
WITH lines AS (
    SELECT l.customer_id, CAST(l.product_id AS STRING) AS product_id, l.order_id, l.order_date, l.amount,
           l.quantity, days_between(l.order_date, p.as_of) AS age
    FROM order_lines l CROSS JOIN run_params p
    WHERE l.amount > 0 AND l.product_id IS NOT NULL AND l.order_date <= p.as_of
),
last_year AS (
    SELECT y.* FROM lines y CROSS JOIN view_params v WHERE y.age < 365 AND y.age >= 365 - v.lead_days
),
picks AS (
    SELECT customer_id, product_id,
           MIN(order_date)                                          AS last_year_date,
           COUNT(DISTINCT order_id)                                 AS last_year_orders,
           SUM(amount)                                              AS last_year_amount,
           COALESCE(SUM(quantity), 0.0)                             AS last_year_quantity
    FROM last_year
    GROUP BY customer_id, product_id
),
this_season AS (
    SELECT DISTINCT s.customer_id, s.product_id
    FROM lines s CROSS JOIN view_params v WHERE s.age < v.lead_days
),
window_orders AS (
    SELECT product_id, COUNT(DISTINCT order_id) AS window_orders FROM last_year GROUP BY product_id
),
year_orders AS (
    SELECT product_id, COUNT(DISTINCT order_id) AS year_orders FROM lines WHERE age < 365 GROUP BY product_id
)
SELECT
    k.customer_id, k.product_id, k.last_year_date, k.last_year_orders, k.last_year_amount, k.last_year_quantity,
    s.customer_id IS NOT NULL                                      AS bought_this_season,
    w.window_orders,
    y.year_orders
FROM picks k
JOIN window_orders w ON w.product_id = k.product_id
JOIN year_orders y ON y.product_id = k.product_id
LEFT JOIN this_season s ON s.customer_id = k.customer_id AND s.product_id = k.product_id
