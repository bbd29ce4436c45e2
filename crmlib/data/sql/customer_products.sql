-- One row per customer and product bought up to as_of: the customer x product purchase table.
-- Input views  order_lines(customer_id, order_id, order_date, amount, product_id, quantity),  run_params(as_of DATE)
-- A purchase is a line with a positive amount and a product (returns are not purchases).
-- n_orders = distinct orders, n_days = distinct days, first/last_date = first and last purchase day,
-- amount and quantity summed over the purchase lines (quantity NULL when no line has one).
SELECT
    l.customer_id,
    CAST(l.product_id AS STRING)                                   AS product_id,
    COUNT(DISTINCT l.order_id)                                     AS n_orders,
    COUNT(DISTINCT CAST(l.order_date AS DATE))                     AS n_days,
    MIN(l.order_date)                                              AS first_date,
    MAX(l.order_date)                                              AS last_date,
    SUM(l.amount)                                                  AS amount,
    SUM(l.quantity)                                                AS quantity
FROM order_lines l CROSS JOIN run_params p
WHERE l.amount > 0 AND l.product_id IS NOT NULL AND l.order_date <= p.as_of
GROUP BY l.customer_id, CAST(l.product_id AS STRING)
