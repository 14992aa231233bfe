-- 0011_dedup_key_covering.sql — the contacts' dedup key index carries the e-mail itself
-- (issue 14: the dedup job at 100x).
--
-- Run inside a transaction by the migration runner (no BEGIN/COMMIT here).
--
-- The duplicate pass (src/domain/dedup.c) reads every contact's key, lower(email) and
-- company, in key order, oldest first within a group: exactly this index's order. But
-- PostgreSQL answers from an expression index alone (an index-only scan) only when every
-- column the expression reads is in the index too, so without the e-mail the pass read
-- the whole contacts table (344 MB at 100x) and sorted a million rows in memory: 3 s of
-- CPU of every run, the weekly one included. With it: an index-only scan already in
-- order, 1.0-1.3 s. The price: the index grows from 106 to 157 MB at 100x, and an
-- import's inserts write a wider entry into an index they already write.
--
-- IF EXISTS: 0010 reconsiders the contacts indexes; whatever it did with this one, the
-- dedup pass needs it in this shape.
drop index if exists contacts_dedup_key_idx;
-- The leading lower(email) also serves look-ups of a contact by e-mail, as before.
create index contacts_dedup_key_idx on contacts (lower(email), company_id, created_at, id)
	include (email);
