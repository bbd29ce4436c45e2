-- One row per order, from the order lines. Engine-neutral SQL: DuckDB runs it here; Spark SQL runs it too.
-- Input view  order_lines(customer_id, order_id, order_date, amount, cost, quantity)
-- Returns are negative lines (or whole orders with a negative net amount): they are netted, never dropped.
-- cost is known for an order only when every line has one.
SELECT
    customer_id,
    order_id,
    CAST(MIN(order_date) AS DATE)                                  AS order_date,
    SUM(amount)                                                    AS amount,
    CASE WHEN COUNT(cost) = COUNT(*) THEN SUM(cost) END            AS cost,
    CASE WHEN COUNT(cost) = COUNT(*) THEN SUM(amount) - SUM(cost) END AS margin,
    COUNT(*)                                                       AS n_lines,
    SUM(quantity)                                                  AS quantity,
    SUM(CASE WHEN amount < 0 THEN -amount ELSE 0 END)             AS returns_amount,
    MAX(CASE WHEN amount < 0 THEN 1 ELSE 0 END) = 1                AS has_return,
    SUM(amount) > 0                                                AS is_purchase
FROM order_lines
GROUP BY customer_id, order_id
ORDER BY customer_id, order_date, order_id
