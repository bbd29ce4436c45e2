-- The baskets: one row per purchase order and product in it (distinct), up to as_of. The input of
-- FP-growth (frequent item sets need whole baskets when the rules go beyond pairs).
-- Input views  order_lines(order_id, order_date, amount, product_id),  run_params(as_of DATE)
-- A purchase is a line with a positive amount and a product (returns are not purchases).
SELECT DISTINCT
    l.order_id,
    CAST(l.product_id AS STRING)                                   AS product_id
FROM order_lines l CROSS JOIN run_params p
WHERE l.amount > 0 AND l.product_id IS NOT NULL AND l.order_date <= p.as_of
