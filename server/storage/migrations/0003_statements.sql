-- 0003: account statements (LedgerService.Statement).
--
-- transfers.ord                   position of the transfer in its batch (0, 1, …): with
--                                 `batch` it orders an account's history exactly as the
--                                 ledger applied it.
-- transfers.debit_balance_after   the debited account's balance right after the transfer
-- transfers.credit_balance_after  the credited account's balance right after the transfer
--
-- The writer fills these in the same COPY as the rest of the row. Rows written before
-- this migration are backfilled here: their order inside a batch was not stored, so it
-- is taken as (timestamp, request id, leg). Balances at batch boundaries are exact either
-- way; only the intermediate balances between two transfers of one (atomic) batch may
-- differ from the order the ledger used.
--
-- Two indexes serve a statement page from either side of the transfer.

ALTER TABLE transfers
  ADD COLUMN ord                  integer,
  ADD COLUMN debit_balance_after  bigint,
  ADD COLUMN credit_balance_after bigint;

UPDATE transfers t SET ord = o.ord
FROM (SELECT id, (row_number() OVER (PARTITION BY batch
                                     ORDER BY timestamp_ns, request_id, leg) - 1)::integer AS ord
      FROM transfers) o
WHERE t.id = o.id;

WITH side AS (
  SELECT id, batch, ord, debit AS account, -amount AS delta, true AS debit_side FROM transfers
  UNION ALL
  SELECT id, batch, ord, credit, amount, false FROM transfers
), running AS (
  SELECT id, debit_side,
         sum(delta) OVER (PARTITION BY account ORDER BY batch, ord
                          ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)::bigint AS after
  FROM side
)
UPDATE transfers t
SET debit_balance_after = d.after, credit_balance_after = c.after
FROM running d, running c
WHERE d.id = t.id AND d.debit_side AND c.id = t.id AND NOT c.debit_side;

ALTER TABLE transfers
  ALTER COLUMN ord SET NOT NULL,
  ALTER COLUMN debit_balance_after SET NOT NULL,
  ALTER COLUMN credit_balance_after SET NOT NULL,
  ADD CONSTRAINT transfers_ord_nonnegative CHECK (ord >= 0);

CREATE INDEX transfers_by_debit ON transfers (debit, batch, ord);
CREATE INDEX transfers_by_credit ON transfers (credit, batch, ord);
