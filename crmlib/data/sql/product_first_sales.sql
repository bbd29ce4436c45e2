-- One row per product sold up to as_of: its first sale (first purchase line), and data_start, the first
-- purchase line of any product (the same on every row). Input views  order_lines(product_id, order_date,
-- amount),  run_params(as_of DATE). A sale is a line with a positive amount.
WITH sold AS (
    SELECT l.product_id, l.order_date
    FROM order_lines l CROSS JOIN run_params p
    WHERE l.amount > 0 AND l.order_date <= p.as_of
)
SELECT
    CAST(s.product_id AS STRING)                                   AS product_id,
    MIN(s.order_date)                                              AS first_sale,
    MIN(d.data_start)                                              AS data_start
FROM sold s CROSS JOIN (SELECT MIN(order_date) AS data_start FROM sold) d
WHERE s.product_id IS NOT NULL
GROUP BY CAST(s.product_id AS STRING)
