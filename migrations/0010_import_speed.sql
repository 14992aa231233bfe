-- 0010_import_speed.sql — what a CSV import pays per row, cut to what earns its keep
-- (issue 14). bench/RESULTS.md, "CSV import — what each part of the table costs",
-- has the measurements behind every change here.
--
-- Run inside a transaction by the migration runner (no BEGIN/COMMIT here).
--
-- An import is one INSERT … SELECT of ~50,000 rows; everything the table does per row
-- is paid 50,000 times. A profile of that INSERT into companies (perf, backend CPU)
-- before this migration: index entries 37%, the foreign-key checks and the
-- statement trigger 22%, the stored generated column website_host 17% (url_host(),
-- a regular expression through a non-inlinable SQL function, about 15 µs a row),
-- CHECK constraints 6%.

-- ---------------------------------------------------------------- url_host without a regex

-- Same result as 0001's regular expression for every input (checked against the 992
-- single-line inputs of the WHATWG URL test data, tests/integration/test_schema.c keeps
-- a sample): lower-cased, trimmed; the scheme is dropped only when it is a valid one
-- ([a-z][a-z0-9+.-]*://); then user info up to the first "@", a leading "www.", the
-- port, path, query and fragment, and trailing dots. PL/pgSQL on plain string
-- functions: about 2 µs a row against 15 µs. It stays IMMUTABLE and gives the same
-- values, so the stored website_host column needs no rewrite.
create or replace function url_host(url text) returns text
language plpgsql immutable strict parallel safe as $$
declare
	s text := lower(btrim(url));
	i int := strpos(s, '://');
begin
	if i > 1 and ascii(s) between 97 and 122
	   and ltrim(left(s, i - 1), 'abcdefghijklmnopqrstuvwxyz0123456789+.-') = '' then
		s := substr(s, i + 3);
	end if;
	s := split_part(split_part(split_part(s, '/', 1), '?', 1), '#', 1);
	i := strpos(s, '@');
	if i > 0 then
		s := substr(s, i + 1);
	end if;
	if left(s, 4) = 'www.' then
		s := substr(s, 5);
	end if;
	return nullif(rtrim(split_part(s, ':', 1), '.'), '');
end
$$;

-- ---------------------------------------------------------------- indexes that did not pay

-- companies_dedup_key_idx (segment_id, lower(name), website_host, created_at, id): the
-- duplicate job never reads it (it scans the table once and sorts, dedup.c), nor does the
-- contact import (it loads the companies once and matches in memory). Its only reader
-- was the contact form's company picker, "approved companies by name", in one segment
-- (the contact's panel) or in all (a new contact): indexes of the approved ones alone
-- serve both, and cost an import nothing, since imported companies are pending.
drop index companies_dedup_key_idx;
create index companies_approved_name_idx on companies (lower(name), id)
	where status = 'approved' and is_active;
create index companies_approved_segment_name_idx on companies (segment_id, lower(name), id)
	where status = 'approved' and is_active;

-- The approval queues' partial indexes, narrowed to what the queues show: pending
-- companies and uploaded contacts that are neither duplicates nor deactivated (the
-- queues hide those unless asked). An import pays for them as before; in exchange the
-- queue's row count (capped at 10,001) becomes an index-only scan: at 100× the
-- contacts queue's count took 29 ms as a sequential scan of the table and 2.2 ms so.
drop index companies_pending_segment_idx;
create index companies_pending_segment_idx on companies (segment_id, created_at, id)
	where status = 'pending' and not is_duplicate and is_active;
drop index contacts_uploaded_segment_idx;
create index contacts_uploaded_segment_idx on contacts (segment_id, created_at, id)
	where status = 'uploaded' and not is_duplicate and is_active;

-- The lists' counts (capped at 10,001: "10,000+") walked an index in creation order and
-- fetched every row to test the hidden-row flags and, filtered, the status: at 100× the
-- contacts list's count took 27 ms and the segment + status count 1.1 s, cold (a
-- sequential scan), 97 ms warm. With those columns carried in the indexes the lists
-- already walk (INCLUDE: payload, not keys, so the order stays the lists'), both are
-- index-only scans: 2.2 ms and 5.5 ms. An import writes the same entries, a few bytes
-- wider.
drop index companies_created_idx;
create index companies_created_idx on companies (created_at, id) include (is_duplicate, is_active);
drop index companies_segment_created_idx;
create index companies_segment_created_idx on companies (segment_id, created_at, id)
	include (status, is_duplicate, is_active);
drop index contacts_created_idx;
create index contacts_created_idx on contacts (created_at, id) include (is_duplicate, is_active);
drop index contacts_segment_created_idx;
create index contacts_segment_created_idx on contacts (segment_id, created_at, id)
	include (status, is_duplicate, is_active);

-- contacts.segment_id → segments: implied. The composite key (company_id, segment_id)
-- → companies (id, segment_id) holds for every row (both columns are NOT NULL), and
-- companies.segment_id → segments holds in turn; the direct key only added one more
-- look-up per imported contact.
alter table contacts drop constraint contacts_segment_fkey;

-- ---------------------------------------------------------------- references checked per statement

-- A declared foreign key checks every inserted row on its own: one SPI query per row
-- and key, about 6 µs each. An import of 46,000 companies paid 138,000 of them
-- (segment, creator, batch: 27% of the INSERT's CPU), a contact import the same for
-- company, creator and batch, plus a PL/pgSQL trigger per row for the company rules.
-- PostgreSQL 15 has no statement-level foreign key, so these references become
-- statement-level triggers over the INSERT's transition table, which check all rows
-- with a few set-based queries, whatever their number:
--   * the referenced rows are locked FOR KEY SHARE, exactly as a foreign key locks
--     them, so none can be deleted or re-keyed before the inserting transaction ends;
--   * a missing one raises foreign_key_violation (23503) under the old constraint's
--     name, so every caller and message mapping sees the same error as before;
--   * the referenced side keeps NO ACTION: deleting a row still referenced, or changing
--     its id, is refused (refuse_referenced_delete, refuse_id_change below);
--   * an UPDATE that changes a reference is checked per row, by row triggers whose WHEN
--     clause keeps every other update free of them (one row at a time is the normal
--     case there).
-- The foreign keys that an import leaves NULL (status_changed_by, duplicate_of,
-- assigned_sdr_id) cost an import nothing and stay declared.

-- Raises what a foreign key would: 23503 under the constraint's name.
create function raise_missing_reference(tbl text, con text, col text, val text, ref text)
returns void
language plpgsql as $$
begin
	raise exception 'insert or update on table "%" violates foreign key constraint "%"',
		tbl, con
		using errcode = 'foreign_key_violation', constraint = con, table = tbl,
		      column = col,
		      detail = format('Key (%s)=(%s) is not present in table "%s".', col, val, ref);
end
$$;

-- What a foreign key does for the rows of table ref whose ids are given: locks them FOR
-- KEY SHARE, and raises raise_missing_reference's error for the first one missing.
create function require_references(tbl text, con text, col text, ref text, ids uuid[])
returns void
language plpgsql as $$
declare
	missing uuid;
begin
	execute format('select 1 from %I where id = any ($1) for key share', ref) using ids;
	execute format('select x from unnest($1) x where not exists (select 1 from %I r '
		       'where r.id = x) limit 1', ref)
		into missing using ids;
	if missing is not null then
		perform raise_missing_reference(tbl, con, col, missing::text, ref);
	end if;
end
$$;

-- A contact's company is pending or rejected (SPEC §2): the message says which.
create function raise_company_not_approved(company_name text, company_status text)
returns void
language plpgsql as $$
begin
	if company_status = 'pending' then
		raise exception 'The company “%” is still pending approval: contacts can be'
			' added once it is approved.', company_name
			using errcode = 'SP003', table = 'contacts', column = 'company_id';
	end if;
	raise exception 'The company “%” was rejected and cannot have contacts.', company_name
		using errcode = 'SP003', table = 'contacts', column = 'company_id';
end
$$;

-- The referenced side of those keys: a row still referenced cannot be deleted. The
-- trigger's arguments are triples (referencing table, column, constraint name).
create function refuse_referenced_delete() returns trigger
language plpgsql as $$
declare
	i int := 0;
begin
	while i + 2 < tg_nargs loop
		if exists_reference(tg_argv[i], tg_argv[i + 1], old.id) then
			raise exception 'update or delete on table "%" violates foreign key constraint'
				' "%" on table "%"', tg_table_name, tg_argv[i + 2], tg_argv[i]
				using errcode = 'foreign_key_violation', constraint = tg_argv[i + 2],
				      table = tg_argv[i],
				      detail = format('Key (id)=(%s) is still referenced from table "%s".',
						      old.id, tg_argv[i]);
		end if;
		i := i + 3;
	end loop;
	return old;
end
$$;

create function exists_reference(tbl text, col text, id uuid) returns boolean
language plpgsql stable as $$
declare
	found_one boolean;
begin
	execute format('select exists (select 1 from %I where %I = $1)', tbl, col)
		into found_one using id;
	return found_one;
end
$$;

-- Ids are never changed; with the references no longer declared, that is now a rule.
create function refuse_id_change() returns trigger
language plpgsql as $$
begin
	raise exception 'the id of a row of % cannot change', tg_table_name
		using errcode = 'foreign_key_violation', table = tg_table_name;
end
$$;

create trigger users_referenced before delete on users
	for each row execute function refuse_referenced_delete(
		'companies', 'created_by', 'companies_created_by_fkey',
		'contacts', 'created_by', 'contacts_created_by_fkey');
create trigger upload_batches_referenced before delete on upload_batches
	for each row execute function refuse_referenced_delete(
		'companies', 'batch_id', 'companies_batch_id_fkey',
		'contacts', 'batch_id', 'contacts_batch_id_fkey');
create trigger segments_referenced before delete on segments
	for each row execute function refuse_referenced_delete(
		'companies', 'segment_id', 'companies_segment_id_fkey');
create trigger companies_referenced before delete on companies
	for each row execute function refuse_referenced_delete(
		'contacts', 'company_id', 'contacts_company_segment_fkey');
create trigger users_id_fixed before update on users
	for each row when (old.id is distinct from new.id) execute function refuse_id_change();
create trigger upload_batches_id_fixed before update on upload_batches
	for each row when (old.id is distinct from new.id) execute function refuse_id_change();
create trigger segments_id_fixed before update on segments
	for each row when (old.id is distinct from new.id) execute function refuse_id_change();
create trigger companies_id_fixed before update on companies
	for each row when (old.id is distinct from new.id) execute function refuse_id_change();

-- ---------------------------------------------------------------- companies

alter table companies drop constraint companies_segment_id_fkey,
	drop constraint companies_created_by_fkey,
	drop constraint companies_batch_id_fkey;

-- Every new company, per statement: its segment, creator and batch exist (locked as a
-- foreign key locks them), and its segment is active (SPEC §2; 0004's rule, folded in).
create or replace function companies_require_active_segments() returns trigger
language plpgsql as $$
declare
	segs     uuid[];
	creators uuid[];
	batches  uuid[];
	bad      uuid;
begin
	-- One pass over the new rows (each pass over 50,000 wide rows costs tens of ms),
	-- then only the few distinct values they reference.
	select array_agg(distinct segment_id), array_agg(distinct created_by),
	       array_agg(distinct batch_id) filter (where batch_id is not null)
		into segs, creators, batches
		from new_companies;
	perform require_references('companies', 'companies_segment_id_fkey', 'segment_id',
				   'segments', segs);
	perform require_references('companies', 'companies_created_by_fkey', 'created_by',
				   'users', creators);
	perform require_references('companies', 'companies_batch_id_fkey', 'batch_id',
				   'upload_batches', batches);

	select id into bad from segments where id = any (segs) and status = 'archived' limit 1;
	if found then
		raise exception 'segment % is archived and accepts no new companies', bad
			using errcode = 'SP004', table = 'companies', column = 'segment_id';
	end if;
	return null;
end
$$;

-- A company moved to another segment: 0001's per-row check also stands in for the
-- foreign key now, and locks the new segment as the key did.
create or replace function companies_require_active_segment() returns trigger
language plpgsql as $$
declare
	seg_status text;
begin
	select status into seg_status from segments where id = new.segment_id for key share;
	if not found then
		perform raise_missing_reference('companies', 'companies_segment_id_fkey',
						'segment_id', new.segment_id::text, 'segments');
	end if;
	if seg_status = 'archived' then
		raise exception 'segment % is archived and accepts no new companies',
			new.segment_id
			using errcode = 'SP004', table = 'companies', column = 'segment_id';
	end if;
	return new;
end
$$;

-- Creator and batch changed by an UPDATE (the application never does; scripts might),
-- for companies and contacts alike: the constraint names are the table's own.
create function check_changed_creator_and_batch() returns trigger
language plpgsql as $$
begin
	if new.created_by is distinct from old.created_by then
		perform require_references(tg_table_name, tg_table_name || '_created_by_fkey',
					   'created_by', 'users', array[new.created_by]);
	end if;
	if new.batch_id is not null and new.batch_id is distinct from old.batch_id then
		perform require_references(tg_table_name, tg_table_name || '_batch_id_fkey',
					   'batch_id', 'upload_batches', array[new.batch_id]);
	end if;
	return new;
end
$$;
create trigger companies_refs_update before update on companies
	for each row when (old.created_by is distinct from new.created_by
			   or old.batch_id is distinct from new.batch_id)
	execute function check_changed_creator_and_batch();

-- ---------------------------------------------------------------- contacts

-- The composite key (company_id, segment_id) → companies (id, segment_id) made the
-- contact's segment its company's; its ON UPDATE CASCADE carried a company's move to
-- its contacts. Both are now explicit: the checks below, and companies_move_contacts.
-- companies_id_segment_key existed only as that key's target.
alter table contacts drop constraint contacts_company_segment_fkey,
	drop constraint contacts_created_by_fkey,
	drop constraint contacts_batch_id_fkey;
alter table companies drop constraint companies_id_segment_key;

create function companies_move_contacts() returns trigger
language plpgsql as $$
begin
	update contacts set segment_id = new.segment_id where company_id = new.id;
	return null;
end
$$;
create trigger companies_move_contacts after update of segment_id on companies
	for each row when (old.segment_id is distinct from new.segment_id)
	execute function companies_move_contacts();

-- 0006's row check (company approved, segment = the company's), now also the foreign
-- key for one row: an unknown company is refused here, and the company is locked.
-- It runs for an INSERT that leaves segment_id to it (the forms do) and for an UPDATE
-- that changes the company or the segment; an INSERT that names the segment (an
-- import) is checked per statement by contacts_check_new_rows instead.
create or replace function contacts_check_company() returns trigger
language plpgsql as $$
declare
	c_status  text;
	c_segment uuid;
	c_name    text;
begin
	select status, segment_id, name into c_status, c_segment, c_name
		from companies where id = new.company_id for key share;
	if not found then
		perform raise_missing_reference('contacts', 'contacts_company_segment_fkey',
						'company_id', new.company_id::text, 'companies');
	end if;
	if (tg_op = 'INSERT' or old.company_id is distinct from new.company_id)
	   and c_status <> 'approved' then
		perform raise_company_not_approved(c_name, c_status);
	end if;
	if new.segment_id is null then
		new.segment_id := c_segment;
	elsif new.segment_id <> c_segment then
		raise exception 'A contact''s segment is always its company''s segment.'
			using errcode = 'SP006', table = 'contacts', column = 'segment_id',
			      detail = format('company %s is in segment %s, not %s', new.company_id,
					      c_segment, new.segment_id);
	end if;
	return new;
end
$$;
drop trigger contacts_company_insert on contacts;
create trigger contacts_company_insert before insert on contacts
	for each row when (new.segment_id is null) execute function contacts_check_company();

-- The same rules for every new contact, per statement, in the order the row check
-- applies them (company exists, approved, same segment), then creator and batch.
create function contacts_check_new_rows() returns trigger
language plpgsql as $$
declare
	cos       uuid[];
	segs      uuid[];
	creators  uuid[];
	batches   uuid[];
	bad       uuid;
	c_name    text;
	c_status  text;
	c_segment uuid;
	n_segment uuid;
begin
	-- One pass over the new rows; cos[i] and segs[i] are the pairs (company, segment)
	-- they name.
	with p as (select company_id, segment_id, created_by, batch_id from new_contacts
		   group by 1, 2, 3, 4)
	select array_agg(company_id), array_agg(segment_id), array_agg(distinct created_by),
	       array_agg(distinct batch_id) filter (where batch_id is not null)
		into cos, segs, creators, batches
		from p;
	perform require_references('contacts', 'contacts_company_segment_fkey', 'company_id',
				   'companies', cos);
	select name, status into c_name, c_status from companies
		where id = any (cos) and status <> 'approved' limit 1;
	if found then
		perform raise_company_not_approved(c_name, c_status);
	end if;
	select x.company_id, c.segment_id, x.segment_id into bad, c_segment, n_segment
		from unnest(cos, segs) x (company_id, segment_id)
		join companies c on c.id = x.company_id
		where c.segment_id <> x.segment_id limit 1;
	if found then
		raise exception 'A contact''s segment is always its company''s segment.'
			using errcode = 'SP006', table = 'contacts', column = 'segment_id',
			      detail = format('company %s is in segment %s, not %s', bad, c_segment,
					      n_segment);
	end if;
	perform require_references('contacts', 'contacts_created_by_fkey', 'created_by', 'users',
				   creators);
	perform require_references('contacts', 'contacts_batch_id_fkey', 'batch_id',
				   'upload_batches', batches);
	return null;
end
$$;
create trigger contacts_check_new_rows after insert on contacts
	referencing new table as new_contacts
	for each statement execute function contacts_check_new_rows();

create trigger contacts_refs_update before update on contacts
	for each row when (old.created_by is distinct from new.created_by
			   or old.batch_id is distinct from new.batch_id)
	execute function check_changed_creator_and_batch();
