-- One row per customer and product bought on at least two distinct days up to as_of: the customer's rhythm
-- for that product. Input views  order_lines(customer_id, product_id, order_date, amount, ...),
-- run_params(as_of DATE). Lines with a positive amount count as purchases of the product.
WITH days AS (
    SELECT l.customer_id, l.product_id, CAST(l.order_date AS DATE) AS day, SUM(l.amount) AS day_amount
    FROM order_lines l CROSS JOIN run_params p
    WHERE l.order_date <= p.as_of AND l.amount > 0 AND l.product_id IS NOT NULL
    GROUP BY l.customer_id, l.product_id, CAST(l.order_date AS DATE)
),
gaps AS (
    SELECT customer_id, product_id, day, day_amount,
           days_between(LAG(day) OVER (PARTITION BY customer_id, product_id ORDER BY day), day) AS gap,
           MAX(day) OVER (PARTITION BY customer_id, product_id)                                AS last_day
    FROM days
)
SELECT
    g.customer_id,
    g.product_id,
    COUNT(*)                                                                   AS n_purchase_days,
    MAX(g.day)                                                                 AS last_purchase_date,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY g.gap)                         AS usual_gap_days,
    AVG(g.day_amount)                                                          AS amount_per_purchase,
    SUM(CASE WHEN days_between(g.day, g.last_day) < 365 THEN g.day_amount ELSE 0 END) AS spend_last_year,
    days_between(MAX(g.day), MAX(p.as_of))                                     AS days_since
FROM gaps g CROSS JOIN run_params p
GROUP BY g.customer_id, g.product_id
HAVING COUNT(*) >= 2
