-- 0012_stored_counts.sql — the counts the home pages and the segments list show, kept
-- by the statements that change them instead of counted on every request (issue 14,
-- item 2). At 100× the Segment Owner's and Marketing's home pages counted every
-- company and every one of a million contacts per request (430 ms), and the
-- researcher's workbench looked for contacts of each of its approved companies
-- (145 ms warm, over a second cold). Also the SDR's count of their contacts, read from
-- its index alone.
--
-- Run inside a transaction by the migration runner (no BEGIN/COMMIT here).
--
-- "Shown" below is what every list shows by default and every count counts: active
-- and not flagged as a duplicate.

-- ---------------------------------------------------------------- per segment

-- segment_counts holds changes, not totals: every statement that changes companies or
-- contacts appends one row per (segment, entity, status) whose shown count it changed,
-- with the signed difference; a count is the sum of its rows. Appending never waits on
-- another transaction. One row per key, updated in place, would make every approval
-- in a segment wait behind an import's open transaction in the same segment, and two
-- statements could lock the same keys in different orders. counts_compact() (the
-- hourly housekeeping job) folds the rows into one per key; a reader sums what is
-- there either way, so compaction changes no count.
create table segment_counts (
	segment_id uuid   not null,
	entity     text   not null
		constraint segment_counts_entity_check check (entity in ('company', 'contact')),
	status     text   not null,
	n          bigint not null
);
create index segment_counts_segment_idx on segment_counts (segment_id, entity, status) include (n);

-- ---------------------------------------------------------------- per company

-- company_contact_counts: the shown contacts of each company, kept the same way, as
-- differences appended by each statement and folded by counts_compact(), keyed by the
-- contacts' segment (always their company's: a company that moves takes its contacts
-- along, and the differences follow). The researcher's workbench asks, for the approved
-- companies of a segment, which have no contact yet: one range of this small table,
-- hashed, answers for all of them (6 ms at 100× for 8,836 companies) where the contacts
-- table (a gigabyte at 100×) needed a random read per company (145 ms warm).
--
-- Why not one row per company holding its count and whether it is approved, with a
-- partial index of the ones waiting? Its row would be written both by contact changes
-- and by company changes, so the duplicate pass flagging a company would wait for an
-- import's open transaction that added contacts to it, and the pass must never wait
-- for an import (tests/integration/test_dedup.c). Appended rows lock nothing.
create table company_contact_counts (
	segment_id uuid    not null,
	company_id uuid    not null,
	n          integer not null
);
create index company_contact_counts_segment_idx on company_contact_counts (segment_id, company_id)
	include (n);

-- The other half of the workbench's question: the approved, shown companies of a
-- segment in creation order (its list is the oldest first), read index-only. Imports
-- add pending companies, which this index never holds.
create index companies_shown_approved_idx on companies (segment_id, created_at, id)
	where status = 'approved' and is_active and not is_duplicate;

-- Folds both tables' rows into one per key and drops the keys that sum to zero;
-- returns how many rows fewer there are. The DELETE takes the rows its snapshot sees:
-- rows appended meanwhile stay, and every reader sums them with the folded ones.
create function counts_compact() returns bigint
language sql as $$
	with gone as (delete from segment_counts returning segment_id, entity, status, n),
	kept as (insert into segment_counts (segment_id, entity, status, n)
		select segment_id, entity, status, sum(n) from gone
		group by segment_id, entity, status having sum(n) <> 0
		returning 1),
	co_gone as (delete from company_contact_counts returning segment_id, company_id, n),
	co_kept as (insert into company_contact_counts (segment_id, company_id, n)
		select segment_id, company_id, sum(n) from co_gone
		group by segment_id, company_id having sum(n) <> 0
		returning 1)
	select (select count(*) from gone) - (select count(*) from kept)
	       + (select count(*) from co_gone) - (select count(*) from co_kept)
$$;

-- A statement's contact differences, (segment, company, status, difference), appended
-- to both tables. The arrays are parallel; NULL (no difference) appends nothing.
create function contact_counts_apply(segs uuid[], cos uuid[], statuses text[], ds bigint[])
returns void
language plpgsql as $$
begin
	insert into segment_counts (segment_id, entity, status, n)
		select seg, 'contact', status, sum(d)
		from unnest(segs, statuses, ds) x (seg, status, d)
		group by seg, status having sum(d) <> 0;
	insert into company_contact_counts (segment_id, company_id, n)
		select seg, co, sum(d) from unnest(segs, cos, ds) x (seg, co, d)
		group by seg, co having sum(d) <> 0;
end
$$;

create function contacts_counts_change() returns trigger
language plpgsql as $$
declare
	segs     uuid[];
	cos      uuid[];
	statuses text[];
	ds       bigint[];
begin
	if tg_op = 'INSERT' then
		select array_agg(segment_id), array_agg(company_id), array_agg(status),
		       array_agg(d)
			into segs, cos, statuses, ds
			from (select segment_id, company_id, status, count(*) as d from new_rows
			      where is_active and not is_duplicate
			      group by segment_id, company_id, status) x;
	elsif tg_op = 'DELETE' then
		select array_agg(segment_id), array_agg(company_id), array_agg(status),
		       array_agg(d)
			into segs, cos, statuses, ds
			from (select segment_id, company_id, status, -count(*) as d from old_rows
			      where is_active and not is_duplicate
			      group by segment_id, company_id, status) x;
	else
		-- Most updates change none of these (an edited name, a new phone number):
		-- their +1 and -1 cancel out and nothing is written.
		select array_agg(segment_id), array_agg(company_id), array_agg(status),
		       array_agg(d)
			into segs, cos, statuses, ds
			from (select segment_id, company_id, status, sum(d)::bigint as d
			      from (select segment_id, company_id, status, 1 as d from new_rows
				    where is_active and not is_duplicate
				    union all
				    select segment_id, company_id, status, -1 from old_rows
				    where is_active and not is_duplicate) y
			      group by segment_id, company_id, status having sum(d) <> 0) x;
	end if;
	perform contact_counts_apply(segs, cos, statuses, ds);
	return null;
end
$$;

create function companies_counts_change() returns trigger
language plpgsql as $$
begin
	if tg_op = 'INSERT' then
		insert into segment_counts (segment_id, entity, status, n)
			select segment_id, 'company', status, count(*) from new_rows
			where is_active and not is_duplicate group by segment_id, status;
	elsif tg_op = 'DELETE' then
		insert into segment_counts (segment_id, entity, status, n)
			select segment_id, 'company', status, -count(*) from old_rows
			where is_active and not is_duplicate group by segment_id, status;
	else
		insert into segment_counts (segment_id, entity, status, n)
			select segment_id, 'company', status, sum(d) from (
				select segment_id, status, 1 as d from new_rows
				where is_active and not is_duplicate
				union all
				select segment_id, status, -1 from old_rows
				where is_active and not is_duplicate) x
			group by segment_id, status having sum(d) <> 0;
	end if;
	return null;
end
$$;

-- Transition tables allow one event per trigger.
create trigger companies_counts_insert after insert on companies
	referencing new table as new_rows
	for each statement execute function companies_counts_change();
create trigger companies_counts_update after update on companies
	referencing old table as old_rows new table as new_rows
	for each statement execute function companies_counts_change();
create trigger companies_counts_delete after delete on companies
	referencing old table as old_rows
	for each statement execute function companies_counts_change();
create trigger contacts_counts_insert after insert on contacts
	referencing new table as new_rows
	for each statement execute function contacts_counts_change();
create trigger contacts_counts_update after update on contacts
	referencing old table as old_rows new table as new_rows
	for each statement execute function contacts_counts_change();
create trigger contacts_counts_delete after delete on contacts
	referencing old table as old_rows
	for each statement execute function contacts_counts_change();

-- TRUNCATE fires no row or statement triggers with rows: the counts go with the rows.
create function counts_truncate() returns trigger
language plpgsql as $$
begin
	if tg_table_name = 'companies' then
		delete from segment_counts where entity = 'company';
	else
		delete from segment_counts where entity = 'contact';
		delete from company_contact_counts;
	end if;
	return null;
end
$$;
create trigger companies_counts_truncate after truncate on companies
	for each statement execute function counts_truncate();
create trigger contacts_counts_truncate after truncate on contacts
	for each statement execute function counts_truncate();

-- ---------------------------------------------------------------- an SDR's contacts

-- The SDR's home counts their contacts still waiting for a meeting (capped at 10,000).
-- By the SDR's index alone it read each contact's row for its status and flags
-- (26 ms at 100× for an SDR of 10,000 contacts, bitmap-ANDed with the status index);
-- with them in the index it is an index-only scan (3 ms). Imported contacts have no
-- SDR, so an import never writes this partial index.
drop index contacts_sdr_created_idx;
create index contacts_sdr_created_idx on contacts (assigned_sdr_id, created_at, id)
	include (status, is_active, is_duplicate) where assigned_sdr_id is not null;

-- ---------------------------------------------------------------- what is there now

-- Both tables recounted from the rows themselves, folded. For this migration, and for
-- a bulk load that ran with triggers off (bench/gen.sql: session_replication_role =
-- replica): SELECT counts_rebuild(). It locks both tables against the triggers'
-- appends while it counts, so no difference is lost or counted twice.
create function counts_rebuild() returns void
language plpgsql as $$
begin
	lock table segment_counts, company_contact_counts in exclusive mode;
	delete from segment_counts;
	delete from company_contact_counts;
	insert into segment_counts (segment_id, entity, status, n)
		select segment_id, 'company', status, count(*) from companies
		where is_active and not is_duplicate group by segment_id, status;
	insert into segment_counts (segment_id, entity, status, n)
		select segment_id, 'contact', status, count(*) from contacts
		where is_active and not is_duplicate group by segment_id, status;
	insert into company_contact_counts (segment_id, company_id, n)
		select segment_id, company_id, count(*) from contacts
		where is_active and not is_duplicate group by segment_id, company_id;
end
$$;
select counts_rebuild();

-- The stored counts against a recount, row by row: empty when they agree. For tests
-- and for an operator who doubts a number (SELECT * FROM counts_differences()).
create function counts_differences()
returns table (what text, key text, stored bigint, counted bigint)
language sql stable as $$
	with stored as (select segment_id, entity, status, sum(n)::bigint as n
			from segment_counts group by 1, 2, 3),
	counted as (select segment_id, 'company' as entity, status, count(*) as n
		    from companies where is_active and not is_duplicate group by 1, 3
		    union all
		    select segment_id, 'contact', status, count(*)
		    from contacts where is_active and not is_duplicate group by 1, 3)
	select 'segment', concat_ws(' ', coalesce(s.segment_id, c.segment_id),
				    coalesce(s.entity, c.entity), coalesce(s.status, c.status)),
	       coalesce(s.n, 0), coalesce(c.n, 0)
	from stored s full join counted c using (segment_id, entity, status)
	where coalesce(s.n, 0) <> coalesce(c.n, 0)
	union all
	select 'company', concat_ws(' ', coalesce(s.segment_id, c.segment_id),
				    coalesce(s.company_id, c.company_id)),
	       coalesce(s.n, 0), coalesce(c.n, 0)
	from (select segment_id, company_id, sum(n)::bigint as n from company_contact_counts
	      group by segment_id, company_id) s
	full join (select segment_id, company_id, count(*) as n from contacts
		   where is_active and not is_duplicate group by segment_id, company_id) c
		using (segment_id, company_id)
	where coalesce(s.n, 0) <> coalesce(c.n, 0)
$$;
