-- One row: the number of order lines and, per column the views read, how many lines have a value (an
-- optional column the file lacks counts 0). What ctx.has("orders", column) asks, without the lines.
-- Input view  order_lines(customer_id, order_id, order_date, amount, product_id, quantity, cost).
SELECT
    COUNT(*)                                                       AS n_lines,
    COUNT(customer_id)                                             AS customer_id,
    COUNT(order_id)                                                AS order_id,
    COUNT(order_date)                                              AS order_date,
    COUNT(amount)                                                  AS amount,
    COUNT(product_id)                                              AS product_id,
    COUNT(quantity)                                                AS quantity,
    COUNT(cost)                                                    AS cost
FROM order_lines
