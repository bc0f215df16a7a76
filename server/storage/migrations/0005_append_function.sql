-- 0005: ayni_append, the writer's whole batch append as one statement.
--
-- PgStore::Append used to send seven messages a batch (BEGIN, the chain check, the batch
-- row, COPY start and data, the account upsert, COMMIT), each a round trip with two
-- context switches on a small machine: with unary Pay the writer spent most of a batch
-- waiting on them (docs/benchmarks.md). Now it sends BEGIN, one call of this function
-- with every row as arrays, and COMMIT.
--
-- The checks are the ones Append made itself, raised with SQLSTATEs of class AY so that
-- it can map them back to its own status codes:
--   AY001  the batch does not continue the stored chain (sequence or prev_hash)
--   AY002  the stored head's hash is not 32 bytes
--   AY003  an account row changed identity or was written by a later batch
-- Any error rolls the whole batch back: nothing of it is written.
--
-- Transfers: t_* arrays, one element per transfer in batch order; ord is the position.
-- Accounts: a_* arrays in ascending id order, so row locks are always taken in that
-- order; the WHERE clause of the upsert is the pair assertion of 0001's accounts table.

CREATE FUNCTION ayni_append(
  p_sequence bigint, p_timestamp_ns bigint, p_prev_hash bytea, p_hash bytea, p_bytes bytea,
  t_id bytea[], t_request_id bytea[], t_leg integer[], t_debit bigint[], t_credit bigint[],
  t_currency bigint[], t_amount bigint[], t_code smallint[], t_timestamp_ns bigint[],
  t_memo text[], t_debit_after bigint[], t_credit_after bigint[],
  a_id bigint[], a_bank bigint[], a_currency bigint[], a_kind smallint[], a_owner bigint[],
  a_counterparty bigint[], a_status smallint[], a_credit_limit bigint[], a_ceiling bigint[],
  a_balance bigint[], a_debits_posted bigint[], a_credits_posted bigint[])
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
  last_sequence bigint;
  last_hash bytea;
  updated bigint;
BEGIN
  SELECT sequence, hash INTO last_sequence, last_hash
  FROM batches ORDER BY sequence DESC LIMIT 1;
  IF last_sequence IS NULL THEN
    last_sequence := 0;
    last_hash := '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea;
  END IF;
  IF p_sequence <> last_sequence + 1 THEN
    RAISE EXCEPTION USING ERRCODE = 'AY001', MESSAGE = format(
      'the database''s last batch is %s, so the next must be %s', last_sequence,
      last_sequence + 1);
  END IF;
  IF length(last_hash) <> 32 THEN
    RAISE EXCEPTION USING ERRCODE = 'AY002', MESSAGE = format(
      'stored hash of batch %s is not 32 bytes', last_sequence);
  END IF;
  IF p_prev_hash IS DISTINCT FROM last_hash THEN
    RAISE EXCEPTION USING ERRCODE = 'AY001', MESSAGE = format(
      'prev_hash is not the stored hash of batch %s', last_sequence);
  END IF;

  INSERT INTO batches (sequence, timestamp_ns, prev_hash, hash, bytes)
  VALUES (p_sequence, p_timestamp_ns, p_prev_hash, p_hash, p_bytes);

  INSERT INTO transfers (id, request_id, leg, debit, credit, currency, amount, code,
                         timestamp_ns, memo, batch, ord, debit_balance_after,
                         credit_balance_after)
  SELECT u.id, u.request_id, u.leg, u.debit, u.credit, u.currency, u.amount, u.code,
         u.timestamp_ns, u.memo, p_sequence, (u.n - 1)::integer, u.debit_after, u.credit_after
  FROM unnest(t_id, t_request_id, t_leg, t_debit, t_credit, t_currency, t_amount, t_code,
              t_timestamp_ns, t_memo, t_debit_after, t_credit_after) WITH ORDINALITY
       AS u(id, request_id, leg, debit, credit, currency, amount, code, timestamp_ns, memo,
            debit_after, credit_after, n);

  INSERT INTO accounts AS a (id, bank, currency, kind, owner, counterparty, status,
                             credit_limit, ceiling, balance, debits_posted, credits_posted,
                             last_batch)
  SELECT u.*, p_sequence
  FROM unnest(a_id, a_bank, a_currency, a_kind, a_owner, a_counterparty, a_status,
              a_credit_limit, a_ceiling, a_balance, a_debits_posted, a_credits_posted)
       AS u(id, bank, currency, kind, owner, counterparty, status, credit_limit, ceiling,
            balance, debits_posted, credits_posted)
  ORDER BY u.id
  ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status,
    credit_limit = EXCLUDED.credit_limit, ceiling = EXCLUDED.ceiling,
    balance = EXCLUDED.balance, debits_posted = EXCLUDED.debits_posted,
    credits_posted = EXCLUDED.credits_posted, last_batch = EXCLUDED.last_batch
  WHERE a.bank = EXCLUDED.bank AND a.currency = EXCLUDED.currency
    AND a.kind = EXCLUDED.kind AND a.owner = EXCLUDED.owner
    AND a.counterparty = EXCLUDED.counterparty AND a.last_batch < EXCLUDED.last_batch;
  GET DIAGNOSTICS updated = ROW_COUNT;
  IF updated <> coalesce(cardinality(a_id), 0) THEN
    RAISE EXCEPTION USING ERRCODE = 'AY003', MESSAGE = format(
      '%s account rows changed identity or were written by a later batch; nothing written',
      coalesce(cardinality(a_id), 0) - updated);
  END IF;
END
$$;
