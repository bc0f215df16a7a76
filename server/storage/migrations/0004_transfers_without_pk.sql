-- 0004: no primary key on transfers.id.
--
-- Transfer ids are random-looking BLAKE2b-128 values, so a unique B-tree over them takes
-- every insert to a random leaf: profiling the batch path (docs/benchmarks.md) showed
-- B-tree insertion as the largest cost of a batch in PostgreSQL, this index first among
-- them. Nothing looks transfers up by id, and uniqueness is already guaranteed upstream:
-- ids derive from request ids, which the ledger admits once, and a batch can be written
-- only once (Append checks the hash chain inside its transaction). The audit
-- (VerifyJournal) recomputes everything from the journal, whatever this table holds.
ALTER TABLE transfers DROP CONSTRAINT transfers_pkey;
