-- Orders per product over the last lookback_days up to as_of (as_of and the lookback_days - 1 days before
-- it): one row per product with distinct orders containing it (every line, returns too).
-- Input views  order_lines(order_id, order_date, product_id),  run_params(as_of DATE),
-- view_params(lookback_days INT).
SELECT
    CAST(l.product_id AS STRING)                                   AS product_id,
    COUNT(DISTINCT l.order_id)                                     AS orders
FROM order_lines l CROSS JOIN run_params p CROSS JOIN view_params v
WHERE l.product_id IS NOT NULL AND l.order_date <= p.as_of
  AND days_between(l.order_date, p.as_of) < v.lookback_days
GROUP BY CAST(l.product_id AS STRING)
