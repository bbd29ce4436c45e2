-- Early buyers: one row per customer and product bought within early_days of the product's first sale
-- (day 0 included), up to as_of, with the amount spent in those days. Input views  order_lines(customer_id,
-- product_id, order_date, amount),  product_first_sales (product_first_sales.sql),  run_params(as_of DATE),
-- view_params(early_days INT). A purchase is a line with a positive amount.
SELECT
    l.customer_id,
    f.product_id,
    MIN(f.first_sale)                                              AS first_sale,
    SUM(l.amount)                                                  AS amount
FROM order_lines l
CROSS JOIN run_params p
CROSS JOIN view_params v
JOIN product_first_sales f ON f.product_id = CAST(l.product_id AS STRING)
WHERE l.amount > 0 AND l.order_date <= p.as_of AND days_between(f.first_sale, l.order_date) < v.early_days
GROUP BY l.customer_id, f.product_id
