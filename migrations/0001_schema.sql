-- 0001_schema.sql — Spanner's whole schema: every table, constraint, trigger and index.
--
-- Run by the server's migration runner inside one transaction (it issues BEGIN/COMMIT
-- and records the version in schema_migrations), so this file has neither.
--
-- Conventions
--   * uuid primary keys from gen_random_uuid() (built into PostgreSQL 13+);
--   * timestamptz everywhere; created_at on every table, updated_at on every table whose
--     rows change, maintained by the shared trigger function set_updated_at();
--   * status columns are text with CHECK constraints;
--   * soft delete only (is_active) for business data;
--   * the application normalises input (trim, collapse spaces, empty -> NULL, lower-case
--     e-mail, canonical URLs) before writing; the CHECKs here are the backstop.
--
-- Errors raised by this schema's triggers (the C code maps them to user messages)
--   SP001  company status transition refused (only pending -> approved|rejected)
--   SP002  contact status transition refused (one step forward at a time)
--   SP003  contact for a company that is not approved
--   SP004  new company (or move) into an archived segment
--   SP005  UPDATE / DELETE / TRUNCATE on audit_logs
--   23514  founded_year after the current year (constraint companies_founded_year_check,
--          the same name as the CHECK for the lower bound)
--   23503  assignment / collateral pointing at an entity that does not exist
--          (constraints assignments_entity_fkey, marketing_collaterals_scope_fkey)
-- Ordinary constraint violations keep PostgreSQL's SQLSTATEs and constraint names
-- (23505 unique, 23503 foreign key, 23514 check, 23502 not null).

-- ---------------------------------------------------------------- extensions

-- pg_trgm gives the global search (ILIKE '%term%') an index. It ships with
-- postgresql-contrib and is a trusted extension, but a configured external server may
-- lack it or refuse it: search then still works, only without the trigram indexes, so
-- its absence must not stop the migration.
do $$
begin
	if exists (select 1 from pg_available_extensions where name = 'pg_trgm') then
		begin
			create extension if not exists pg_trgm;
		exception when others then
			raise notice 'pg_trgm not installed (%); search runs without trigram indexes', sqlerrm;
		end;
	end if;
end
$$;

-- ---------------------------------------------------------------- shared functions

-- One trigger function for every updated_at column, so no UPDATE can forget it.
create function set_updated_at() returns trigger
language plpgsql as $$
begin
	new.updated_at := now();
	return new;
end
$$;

-- The host part of a URL for duplicate detection: lower-cased, without scheme, user
-- info, "www.", port, path, query, fragment or trailing dot. NULL when there is none.
-- Immutable so it can feed a stored generated column and an index.
create function url_host(url text) returns text
language sql immutable strict parallel safe as $$
	select nullif(rtrim(regexp_replace(lower(btrim(url)),
		'^([a-z][a-z0-9+.-]*://)?([^/?#@]*@)?(www\.)?([^/?#:]*).*$', '\4'), '.'), '')
$$;

-- ---------------------------------------------------------------- users, roles, grants

create table users (
	id                  uuid primary key default gen_random_uuid(),
	email               text not null,
	name                text not null,
	-- Argon2id encoded hash; NULL while an account has no password yet (it is set
	-- through a reset link), which makes sign-in impossible.
	password_hash       text,
	is_active           boolean not null default true,
	deactivated_at      timestamptz,
	password_changed_at timestamptz,
	last_login_at       timestamptz,
	created_by          uuid references users (id),
	created_at          timestamptz not null default now(),
	updated_at          timestamptz not null default now(),
	constraint users_email_check check (char_length(email) <= 320
		and email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'),
	constraint users_name_check check (char_length(name) <= 200 and name ~ '[^[:space:]]')
);
-- E-mail addresses are compared case-insensitively: Alice@x.com and alice@x.com are one
-- account. The app stores them lower-cased; the index makes the rule hold regardless.
create unique index users_email_lower_key on users (lower(email));
create index users_created_by_idx on users (created_by) where created_by is not null;
create index users_created_idx on users (created_at, id);
create trigger users_set_updated_at before update on users
	for each row execute function set_updated_at();

create table roles (
	id          uuid primary key default gen_random_uuid(),
	name        text not null constraint roles_name_key unique,
	description text,
	created_at  timestamptz not null default now(),
	updated_at  timestamptz not null default now(),
	constraint roles_name_check check (char_length(name) <= 100 and name ~ '[^[:space:]]'),
	constraint roles_description_check check (char_length(description) <= 1000)
);
create trigger roles_set_updated_at before update on roles
	for each row execute function set_updated_at();

create table user_roles (
	user_id    uuid not null references users (id) on delete cascade,
	role_id    uuid not null references roles (id) on delete cascade,
	granted_by uuid references users (id),
	created_at timestamptz not null default now(),
	primary key (user_id, role_id)
);
create index user_roles_role_idx on user_roles (role_id);
create index user_roles_granted_by_idx on user_roles (granted_by) where granted_by is not null;

create table permissions (
	id          uuid primary key default gen_random_uuid(),
	module      text not null,
	action      text not null,
	description text,
	created_at  timestamptz not null default now(),
	updated_at  timestamptz not null default now(),
	constraint permissions_module_action_key unique (module, action),
	-- Handlers ask for "module.action" strings; keep both parts plain identifiers so
	-- that form is unambiguous.
	constraint permissions_module_check check (module ~ '^[a-z][a-z0-9_]*$'
		and char_length(module) <= 50),
	constraint permissions_action_check check (action ~ '^[a-z][a-z0-9_]*$'
		and char_length(action) <= 50),
	constraint permissions_description_check check (char_length(description) <= 1000)
);
create trigger permissions_set_updated_at before update on permissions
	for each row execute function set_updated_at();

-- The grants: which role holds which permission. Edited on the admin grants page.
create table role_permissions (
	role_id       uuid not null references roles (id) on delete cascade,
	permission_id uuid not null references permissions (id) on delete cascade,
	granted_by    uuid references users (id),
	created_at    timestamptz not null default now(),
	primary key (role_id, permission_id)
);
create index role_permissions_permission_idx on role_permissions (permission_id);
create index role_permissions_granted_by_idx on role_permissions (granted_by)
	where granted_by is not null;

-- ---------------------------------------------------------------- segments, offerings

create table segments (
	id          uuid primary key default gen_random_uuid(),
	name        text not null,
	description text,
	status      text not null default 'active',
	archived_at timestamptz,
	archived_by uuid references users (id),
	created_by  uuid not null references users (id),
	created_at  timestamptz not null default now(),
	updated_at  timestamptz not null default now(),
	constraint segments_name_check check (char_length(name) <= 200 and name ~ '[^[:space:]]'),
	constraint segments_description_check check (char_length(description) <= 5000),
	constraint segments_status_check check (status in ('active', 'archived'))
);
-- Unique regardless of case: CSV rows name their segment, and "uk fintech" must not be
-- able to pick a different segment from "UK Fintech".
create unique index segments_name_lower_key on segments (lower(name));
create index segments_status_name_idx on segments (status, lower(name));
create index segments_created_by_idx on segments (created_by);
create index segments_archived_by_idx on segments (archived_by) where archived_by is not null;
create index segments_created_idx on segments (created_at, id);
create trigger segments_set_updated_at before update on segments
	for each row execute function set_updated_at();

create table offerings (
	id          uuid primary key default gen_random_uuid(),
	name        text not null,
	description text,
	status      text not null default 'active',
	created_by  uuid references users (id),
	created_at  timestamptz not null default now(),
	updated_at  timestamptz not null default now(),
	constraint offerings_name_check check (char_length(name) <= 200 and name ~ '[^[:space:]]'),
	constraint offerings_description_check check (char_length(description) <= 5000),
	constraint offerings_status_check check (status in ('active', 'inactive'))
);
-- A master list picked through auto-complete: one entry per name, whatever its case.
-- The index also serves the auto-complete's prefix search (lower(name) like 'ab%')
-- because it uses text_pattern_ops.
create unique index offerings_name_lower_key on offerings (lower(name));
create index offerings_name_prefix_idx on offerings (lower(name) text_pattern_ops);
create index offerings_created_by_idx on offerings (created_by) where created_by is not null;
create trigger offerings_set_updated_at before update on offerings
	for each row execute function set_updated_at();

create table segment_offerings (
	segment_id  uuid not null references segments (id) on delete cascade,
	offering_id uuid not null references offerings (id) on delete cascade,
	created_by  uuid references users (id),
	created_at  timestamptz not null default now(),
	primary key (segment_id, offering_id)
);
create index segment_offerings_offering_idx on segment_offerings (offering_id);
create index segment_offerings_created_by_idx on segment_offerings (created_by)
	where created_by is not null;

-- ---------------------------------------------------------------- background jobs

-- The durable work queue for the task workers (CSV import, dedup, ...). Workers claim
-- with SELECT ... FOR UPDATE SKIP LOCKED and hold a lease; a job whose lease ran out
-- (its worker died) is claimable again and re-run from the start.
create table jobs (
	id           uuid primary key default gen_random_uuid(),
	kind         text not null,
	payload      jsonb not null default '{}',
	state        text not null default 'queued',
	attempts     integer not null default 0,
	max_attempts integer not null default 3,
	run_at       timestamptz not null default now(),
	locked_by    text,
	lease_until  timestamptz,
	progress     jsonb,
	result       jsonb,
	error        text,
	created_by   uuid references users (id),
	created_at   timestamptz not null default now(),
	started_at   timestamptz,
	finished_at  timestamptz,
	updated_at   timestamptz not null default now(),
	constraint jobs_kind_check check (kind ~ '^[a-z][a-z0-9_.-]*$' and char_length(kind) <= 100),
	constraint jobs_state_check check (state in ('queued', 'running', 'done', 'failed')),
	constraint jobs_attempts_check check (attempts >= 0),
	constraint jobs_max_attempts_check check (max_attempts >= 1),
	-- A running job without a lease could never be recovered after a crash.
	constraint jobs_running_lease_check check (state <> 'running' or lease_until is not null)
);
-- Claim query: state = 'queued' and run_at <= now() order by run_at ...
create index jobs_claim_idx on jobs (run_at) where state = 'queued';
-- Recovery query: state = 'running' and lease_until < now() ...
create index jobs_expired_lease_idx on jobs (lease_until) where state = 'running';
create index jobs_kind_created_idx on jobs (kind, created_at desc);
create index jobs_created_by_idx on jobs (created_by) where created_by is not null;
create trigger jobs_set_updated_at before update on jobs
	for each row execute function set_updated_at();

-- Wakes idle workers (LISTEN spanner_jobs) as soon as a job is committed; the payload is
-- the job's kind. Workers still poll, so a lost notification only delays a job.
create function jobs_notify() returns trigger
language plpgsql as $$
begin
	perform pg_notify('spanner_jobs', new.kind);
	return null;
end
$$;
create trigger jobs_notify_queued after insert on jobs
	for each row when (new.state = 'queued') execute function jobs_notify();

create table job_schedules (
	kind             text primary key,
	next_run_at      timestamptz,
	last_enqueued_at timestamptz,
	created_at       timestamptz not null default now(),
	updated_at       timestamptz not null default now()
);
create trigger job_schedules_set_updated_at before update on job_schedules
	for each row execute function set_updated_at();

-- ---------------------------------------------------------------- uploads

create table upload_batches (
	id              uuid primary key default gen_random_uuid(),
	entity_type     text not null,
	file_name       text not null,
	file_size_bytes bigint not null default 0,
	-- The header row as uploaded, in file order: failed rows are kept in these columns
	-- so the failed-rows CSV can be rebuilt exactly.
	headers         text[],
	total_rows      integer not null default 0,
	processed_rows  integer not null default 0,
	valid_rows      integer not null default 0,
	invalid_rows    integer not null default 0,
	status          text not null default 'processing',
	-- Why the whole file was rejected (bad type, size, encoding, missing columns...).
	error_message   text,
	uploader_id     uuid not null references users (id),
	job_id          uuid references jobs (id),
	finished_at     timestamptz,
	created_at      timestamptz not null default now(),
	updated_at      timestamptz not null default now(),
	constraint upload_batches_entity_type_check check (entity_type in ('company', 'contact')),
	constraint upload_batches_file_name_check check (char_length(file_name) <= 500),
	constraint upload_batches_status_check check (status in ('processing', 'completed',
		'failed')),
	constraint upload_batches_counts_check check (file_size_bytes >= 0 and total_rows >= 0
		and processed_rows >= 0 and valid_rows >= 0 and invalid_rows >= 0)
);
create index upload_batches_uploader_idx on upload_batches (uploader_id, created_at, id);
create index upload_batches_created_idx on upload_batches (created_at, id);
create index upload_batches_job_idx on upload_batches (job_id) where job_id is not null;
create trigger upload_batches_set_updated_at before update on upload_batches
	for each row execute function set_updated_at();

-- ---------------------------------------------------------------- companies

create table companies (
	id                  uuid primary key default gen_random_uuid(),
	name                text not null,
	website             text,
	-- Dedup key part: the website reduced to its host (see url_host()).
	website_host        text generated always as (url_host(website)) stored,
	phone               text,
	description         text,
	linkedin_url        text,
	industry            text,
	sub_industry        text,
	address_street      text,
	address_city        text,
	address_state       text,
	address_country     text,
	address_zip         text,
	founded_year        integer,
	revenue_range       text,
	employee_size_range text,
	segment_id          uuid not null references segments (id),
	status              text not null default 'pending',
	rejection_reason    text,
	status_changed_at   timestamptz,
	status_changed_by   uuid references users (id),
	is_duplicate        boolean not null default false,
	duplicate_of        uuid references companies (id),
	is_active           boolean not null default true,
	batch_id            uuid references upload_batches (id),
	created_by          uuid not null references users (id),
	created_at          timestamptz not null default now(),
	updated_at          timestamptz not null default now(),
	-- Target of the contacts' composite foreign key, which is how the database keeps a
	-- contact's segment equal to its company's segment.
	constraint companies_id_segment_key unique (id, segment_id),
	constraint companies_name_check check (char_length(name) <= 500 and name ~ '[^[:space:]]'),
	constraint companies_website_check check (char_length(website) <= 2048
		and website ~* '^https?://[^[:space:]/?#]+([/?#][^[:space:]]*)?$'),
	constraint companies_phone_check check (char_length(phone) <= 50),
	constraint companies_description_check check (char_length(description) <= 5000),
	constraint companies_linkedin_url_check check (char_length(linkedin_url) <= 2048
		and linkedin_url ~* '^https?://[^[:space:]/?#]+([/?#][^[:space:]]*)?$'),
	constraint companies_industry_check check (char_length(industry) <= 200),
	constraint companies_sub_industry_check check (char_length(sub_industry) <= 200),
	constraint companies_address_street_check check (char_length(address_street) <= 500),
	constraint companies_address_city_check check (char_length(address_city) <= 200),
	constraint companies_address_state_check check (char_length(address_state) <= 200),
	constraint companies_address_country_check check (char_length(address_country) <= 200),
	constraint companies_address_zip_check check (char_length(address_zip) <= 50),
	-- Lower bound only: see companies_founded_year_not_future below for the upper one.
	constraint companies_founded_year_check check (founded_year >= 1800),
	constraint companies_revenue_range_check check (char_length(revenue_range) <= 200),
	constraint companies_employee_size_range_check check (char_length(employee_size_range)
		<= 200),
	constraint companies_status_check check (status in ('pending', 'approved', 'rejected')),
	-- A rejection always carries a non-blank reason, and only a rejection has one (a
	-- pending or approved company with a "rejection reason" would be contradictory).
	-- "is not null" first: a CHECK that evaluates to NULL passes.
	constraint companies_rejection_reason_check check (case when status = 'rejected'
		then rejection_reason is not null and rejection_reason ~ '[^[:space:]]'
			and char_length(rejection_reason) <= 5000
		else rejection_reason is null end),
	constraint companies_duplicate_of_check check (duplicate_of is null
		or (is_duplicate and duplicate_of <> id))
);

-- Keyset pagination: every list orders by (created_at, id) in either direction.
create index companies_created_idx on companies (created_at, id);
create index companies_segment_created_idx on companies (segment_id, created_at, id);
create index companies_status_created_idx on companies (status, created_at, id);
create index companies_created_by_created_idx on companies (created_by, created_at, id);
-- Duplicates and deactivated records are rare and hidden by default: the default list
-- walks companies_created_idx and skips them; this partial index serves the toggles
-- that show them, and costs new (active, non-duplicate) rows nothing.
create index companies_dup_active_idx on companies (is_duplicate, is_active, created_at, id)
	where is_duplicate or not is_active;
-- Approval queue filtered by segment: small, holds only the pending rows.
create index companies_pending_segment_idx on companies (segment_id, created_at, id)
	where status = 'pending';
-- Dedup key (case-insensitive name + host + segment), ordered so the oldest of a group
-- comes first. Also serves the contact import's "company named X in segment Y" lookup.
create index companies_dedup_key_idx on companies (segment_id, lower(name), website_host,
	created_at, id);
create index companies_batch_idx on companies (batch_id) where batch_id is not null;
create index companies_duplicate_of_idx on companies (duplicate_of) where duplicate_of is not null;
create index companies_status_changed_by_idx on companies (status_changed_by)
	where status_changed_by is not null;
create trigger companies_set_updated_at before update on companies
	for each row execute function set_updated_at();

-- Status machine: pending -> approved, pending -> rejected; nothing else, ever (SPEC §2).
-- A trigger rather than the application alone, so that no code path, import, script or
-- concurrent request can re-open or re-decide a company. INSERT may use any status
-- (data loads, demo data); the rule is about changes.
create function companies_guard_status() returns trigger
language plpgsql as $$
begin
	if old.status = 'pending' and new.status in ('approved', 'rejected') then
		new.status_changed_at := now();
		return new;
	end if;
	raise exception 'company status cannot change from % to %', old.status, new.status
		using errcode = 'SP001',
		      detail = 'A company moves only from pending to approved or from pending'
			       ' to rejected, and both decisions are final.',
		      table = 'companies', column = 'status';
end
$$;
create trigger companies_status_transition before update on companies
	for each row when (old.status is distinct from new.status)
	execute function companies_guard_status();

-- founded_year <= the current year. Not a CHECK: PostgreSQL requires CHECK expressions
-- to be immutable, and "the current year" is not (a CHECK with now() is accepted but
-- re-evaluated on every UPDATE of any column and by dump/restore, which PostgreSQL
-- explicitly does not support). A trigger checks the value only when it is written.
-- The WHEN clause keeps the common case free of a function call, which matters for
-- bulk imports. It raises check_violation under the CHECK's own name, so callers see
-- one constraint, companies_founded_year_check, for both bounds.
create function companies_reject_future_founded_year() returns trigger
language plpgsql as $$
begin
	raise exception 'founded_year % is after the current year', new.founded_year
		using errcode = 'check_violation',
		      constraint = 'companies_founded_year_check',
		      table = 'companies', column = 'founded_year',
		      detail = 'The founded year must be between 1800 and the current year.';
end
$$;
create trigger companies_founded_year_not_future before insert or update of founded_year
	on companies
	for each row when (new.founded_year > extract(year from now()))
	execute function companies_reject_future_founded_year();

-- Archived segments accept no new companies (SPEC §2), whatever writes them. Checked on
-- INSERT and when a company moves to another segment, not on other edits: a company
-- already in a segment that was archived later stays editable.
create function companies_require_active_segment() returns trigger
language plpgsql as $$
declare
	seg_status text;
begin
	select status into seg_status from segments where id = new.segment_id;
	if seg_status = 'archived' then
		raise exception 'segment % is archived and accepts no new companies',
			new.segment_id
			using errcode = 'SP004', table = 'companies', column = 'segment_id';
	end if;
	-- An unknown segment is left to the foreign key, which reports it as such.
	return new;
end
$$;
create trigger companies_active_segment_insert before insert on companies
	for each row execute function companies_require_active_segment();
create trigger companies_active_segment_update before update on companies
	for each row when (old.segment_id is distinct from new.segment_id)
	execute function companies_require_active_segment();

-- ---------------------------------------------------------------- contacts

create table contacts (
	id                     uuid primary key default gen_random_uuid(),
	first_name             text not null,
	last_name              text not null,
	email                  text not null,
	mobile_phone           text,
	direct_phone           text,
	job_title              text,
	email_2                text,
	email_active_status    text,
	lead_source            text,
	management_level       text,
	address_street         text,
	address_city           text,
	address_state          text,
	address_country        text,
	address_zip            text,
	primary_timezone       text,
	linkedin_url           text,
	linkedin_summary       text,
	data_requester_details text,
	company_id             uuid not null,
	-- Always the company's segment. When NULL on INSERT it is filled in from the company
	-- (see contacts_check_company); a different value is refused by the foreign key.
	segment_id             uuid not null,
	status                 text not null default 'uploaded',
	assigned_sdr_id        uuid references users (id),
	status_changed_at      timestamptz,
	status_changed_by      uuid references users (id),
	is_duplicate           boolean not null default false,
	duplicate_of           uuid references contacts (id),
	is_active              boolean not null default true,
	batch_id               uuid references upload_batches (id),
	created_by             uuid not null references users (id),
	created_at             timestamptz not null default now(),
	updated_at             timestamptz not null default now(),
	-- The contact's segment must be its company's segment (SPEC §2). Referencing the
	-- pair (id, segment_id) makes that a plain foreign key; ON UPDATE CASCADE carries
	-- a company's move to another segment over to its contacts.
	constraint contacts_company_segment_fkey foreign key (company_id, segment_id)
		references companies (id, segment_id) on update cascade,
	constraint contacts_segment_fkey foreign key (segment_id) references segments (id),
	constraint contacts_first_name_check check (char_length(first_name) <= 200
		and first_name ~ '[^[:space:]]'),
	constraint contacts_last_name_check check (char_length(last_name) <= 200
		and last_name ~ '[^[:space:]]'),
	-- Sanity only (one @, no spaces, a dot in the domain); the app validates properly.
	constraint contacts_email_check check (char_length(email) <= 320
		and email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'),
	constraint contacts_email_2_check check (char_length(email_2) <= 320
		and email_2 ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'),
	constraint contacts_mobile_phone_check check (char_length(mobile_phone) <= 50),
	constraint contacts_direct_phone_check check (char_length(direct_phone) <= 50),
	constraint contacts_job_title_check check (char_length(job_title) <= 500),
	constraint contacts_email_active_status_check check (char_length(email_active_status)
		<= 100),
	constraint contacts_lead_source_check check (char_length(lead_source) <= 200),
	constraint contacts_management_level_check check (char_length(management_level) <= 200),
	constraint contacts_address_street_check check (char_length(address_street) <= 500),
	constraint contacts_address_city_check check (char_length(address_city) <= 200),
	constraint contacts_address_state_check check (char_length(address_state) <= 200),
	constraint contacts_address_country_check check (char_length(address_country) <= 200),
	constraint contacts_address_zip_check check (char_length(address_zip) <= 50),
	constraint contacts_primary_timezone_check check (char_length(primary_timezone) <= 100),
	constraint contacts_linkedin_url_check check (char_length(linkedin_url) <= 2048
		and linkedin_url ~* '^https?://[^[:space:]/?#]+([/?#][^[:space:]]*)?$'),
	constraint contacts_linkedin_summary_check check (char_length(linkedin_summary) <= 5000),
	constraint contacts_data_requester_details_check check (
		char_length(data_requester_details) <= 500),
	constraint contacts_status_check check (status in ('uploaded', 'approved',
		'assigned_to_sdr', 'meeting_scheduled')),
	-- A contact "assigned to an SDR" (or further) must name that SDR.
	constraint contacts_assigned_sdr_check check (status in ('uploaded', 'approved')
		or assigned_sdr_id is not null),
	constraint contacts_duplicate_of_check check (duplicate_of is null
		or (is_duplicate and duplicate_of <> id))
);

create index contacts_created_idx on contacts (created_at, id);
-- Leading company_id: the foreign key's index, the company panel's contact list, and
-- the ON UPDATE CASCADE lookup.
create index contacts_company_created_idx on contacts (company_id, created_at, id);
create index contacts_segment_created_idx on contacts (segment_id, created_at, id);
create index contacts_status_created_idx on contacts (status, created_at, id);
create index contacts_created_by_created_idx on contacts (created_by, created_at, id);
create index contacts_sdr_created_idx on contacts (assigned_sdr_id, created_at, id)
	where assigned_sdr_id is not null;
-- See companies_dup_active_idx.
create index contacts_dup_active_idx on contacts (is_duplicate, is_active, created_at, id)
	where is_duplicate or not is_active;
-- Approval queue (contacts tab) filtered by segment: only the uploaded rows.
create index contacts_uploaded_segment_idx on contacts (segment_id, created_at, id)
	where status = 'uploaded';
-- Dedup key (lower-cased e-mail + company), oldest first within a group; the leading
-- lower(email) also serves look-ups of a contact by e-mail.
create index contacts_dedup_key_idx on contacts (lower(email), company_id, created_at, id);
create index contacts_batch_idx on contacts (batch_id) where batch_id is not null;
create index contacts_duplicate_of_idx on contacts (duplicate_of) where duplicate_of is not null;
create index contacts_status_changed_by_idx on contacts (status_changed_by)
	where status_changed_by is not null;
create trigger contacts_set_updated_at before update on contacts
	for each row execute function set_updated_at();

-- Status machine: uploaded -> approved -> assigned_to_sdr -> meeting_scheduled, one step
-- forward at a time (SPEC §2). Contacts are never rejected and never go back. INSERT may
-- use any status (data loads, demo data).
create function contacts_guard_status() returns trigger
language plpgsql as $$
declare
	steps constant text[] := array['uploaded', 'approved', 'assigned_to_sdr',
		'meeting_scheduled'];
begin
	if array_position(steps, new.status) = array_position(steps, old.status) + 1 then
		new.status_changed_at := now();
		return new;
	end if;
	raise exception 'contact status cannot change from % to %', old.status, new.status
		using errcode = 'SP002',
		      detail = 'A contact moves one step at a time: uploaded -> approved ->'
			       ' assigned_to_sdr -> meeting_scheduled.',
		      table = 'contacts', column = 'status';
end
$$;
create trigger contacts_status_transition before update on contacts
	for each row when (old.status is distinct from new.status)
	execute function contacts_guard_status();

-- A contact can be created only for an approved company (SPEC §2), and takes the
-- company's segment when the writer leaves segment_id NULL. One primary-key look-up;
-- on UPDATE only when the contact moves to another company.
create function contacts_check_company() returns trigger
language plpgsql as $$
declare
	c_status  text;
	c_segment uuid;
begin
	select status, segment_id into c_status, c_segment
		from companies where id = new.company_id;
	if not found then
		return new; -- the foreign key reports the unknown company
	end if;
	if c_status <> 'approved' then
		raise exception 'company % is % and not approved: contacts can be added only to'
			' approved companies', new.company_id, c_status
			using errcode = 'SP003', table = 'contacts', column = 'company_id';
	end if;
	if new.segment_id is null then
		new.segment_id := c_segment;
	end if;
	return new;
end
$$;
create trigger contacts_company_insert before insert on contacts
	for each row execute function contacts_check_company();
create trigger contacts_company_update before update on contacts
	for each row when (old.company_id is distinct from new.company_id)
	execute function contacts_check_company();

-- ---------------------------------------------------------------- failed upload rows

-- Every failed row of an upload, in full, so nothing that failed is ever lost: the
-- values in the batch's header order, as submitted. row_number is the row as a
-- spreadsheet shows it (header = 1, first data row = 2).
create table upload_rows (
	id               uuid primary key default gen_random_uuid(),
	batch_id         uuid not null references upload_batches (id),
	row_number       integer not null,
	row_values       text[] not null,
	-- The latest values submitted through the Error Correction module (NULL until then).
	corrected_values text[],
	status           text not null default 'failed',
	-- The company or contact created once the row was corrected and imported.
	imported_id      uuid,
	created_at       timestamptz not null default now(),
	updated_at       timestamptz not null default now(),
	constraint upload_rows_batch_row_key unique (batch_id, row_number),
	constraint upload_rows_row_number_check check (row_number >= 1),
	constraint upload_rows_status_check check (status in ('failed', 'corrected')),
	constraint upload_rows_imported_check check (status = 'failed' or imported_id is not null)
);
create index upload_rows_batch_status_idx on upload_rows (batch_id, status, row_number);
create trigger upload_rows_set_updated_at before update on upload_rows
	for each row execute function set_updated_at();

create table upload_errors (
	id            uuid primary key default gen_random_uuid(),
	batch_id      uuid not null references upload_batches (id),
	upload_row_id uuid references upload_rows (id),
	row_number    integer not null,
	-- NULL for an error about the row as a whole (e.g. company not found in segment).
	column_name   text,
	value         text,
	error_message text not null,
	is_corrected  boolean not null default false,
	corrected_at  timestamptz,
	created_at    timestamptz not null default now(),
	updated_at    timestamptz not null default now(),
	constraint upload_errors_row_number_check check (row_number >= 1),
	constraint upload_errors_error_message_check check (error_message ~ '[^[:space:]]')
);
create index upload_errors_batch_row_idx on upload_errors (batch_id, row_number);
create index upload_errors_row_idx on upload_errors (upload_row_id) where upload_row_id is not null;
create trigger upload_errors_set_updated_at before update on upload_errors
	for each row execute function set_updated_at();

-- ---------------------------------------------------------------- assignments, collateral

create table assignments (
	id          uuid primary key default gen_random_uuid(),
	entity_type text not null,
	entity_id   uuid not null,
	assigned_to uuid not null references users (id),
	assigned_by uuid references users (id),
	-- The role the assignee was assigned in (Researcher, Approver, SDR): a user holding
	-- several roles can be on a segment "as SDR" or "as researcher". Optional.
	role_id     uuid references roles (id),
	is_active   boolean not null default true,
	created_at  timestamptz not null default now(),
	updated_at  timestamptz not null default now(),
	-- The same (entity, user) pair only once; unassigning clears is_active and a new
	-- assignment re-activates the row.
	constraint assignments_entity_user_key unique (entity_type, entity_id, assigned_to),
	constraint assignments_entity_type_check check (entity_type in ('segment', 'company',
		'contact'))
);
create index assignments_assigned_to_idx on assignments (assigned_to, entity_type, created_at)
	where is_active;
create index assignments_assigned_to_all_idx on assignments (assigned_to);
create index assignments_assigned_by_idx on assignments (assigned_by) where assigned_by is not null;
create index assignments_role_idx on assignments (role_id) where role_id is not null;
create trigger assignments_set_updated_at before update on assignments
	for each row execute function set_updated_at();

create table marketing_collaterals (
	id          uuid primary key default gen_random_uuid(),
	title       text not null,
	url         text not null,
	description text,
	scope_type  text not null,
	scope_id    uuid not null,
	created_by  uuid not null references users (id),
	updated_by  uuid references users (id),
	created_at  timestamptz not null default now(),
	updated_at  timestamptz not null default now(),
	constraint marketing_collaterals_title_check check (char_length(title) <= 500
		and title ~ '[^[:space:]]'),
	constraint marketing_collaterals_url_check check (char_length(url) <= 2048
		and url ~* '^https?://[^[:space:]/?#]+([/?#][^[:space:]]*)?$'),
	constraint marketing_collaterals_description_check check (char_length(description)
		<= 5000),
	-- 'lead' is a contact (SPEC §2 calls it a lead here).
	constraint marketing_collaterals_scope_type_check check (scope_type in ('segment',
		'offering', 'lead'))
);
create index marketing_collaterals_scope_idx on marketing_collaterals (scope_type, scope_id,
	created_at);
create index marketing_collaterals_created_idx on marketing_collaterals (created_at, id);
create index marketing_collaterals_created_by_idx on marketing_collaterals (created_by);
create index marketing_collaterals_updated_by_idx on marketing_collaterals (updated_by)
	where updated_by is not null;
create trigger marketing_collaterals_set_updated_at before update on marketing_collaterals
	for each row execute function set_updated_at();

-- assignments and marketing_collaterals point at one of several tables, which a foreign
-- key cannot express; these triggers give them the same guarantee. Records are never
-- deleted (soft delete only), so checking on write is enough.
create function entity_exists(entity_type text, entity_id uuid) returns boolean
language sql stable as $$
	select case entity_type
		when 'segment' then exists (select 1 from segments where id = entity_id)
		when 'company' then exists (select 1 from companies where id = entity_id)
		when 'contact' then exists (select 1 from contacts where id = entity_id)
		when 'lead' then exists (select 1 from contacts where id = entity_id)
		when 'offering' then exists (select 1 from offerings where id = entity_id)
		else false
	end
$$;

create function assignments_check_entity() returns trigger
language plpgsql as $$
begin
	if not entity_exists(new.entity_type, new.entity_id) then
		raise exception 'assignment refers to a missing % %', new.entity_type, new.entity_id
			using errcode = 'foreign_key_violation',
			      constraint = 'assignments_entity_fkey', table = 'assignments';
	end if;
	return new;
end
$$;
create trigger assignments_entity_exists before insert or update of entity_type, entity_id
	on assignments for each row execute function assignments_check_entity();

create function marketing_collaterals_check_scope() returns trigger
language plpgsql as $$
begin
	if not entity_exists(new.scope_type, new.scope_id) then
		raise exception 'collateral refers to a missing % %', new.scope_type, new.scope_id
			using errcode = 'foreign_key_violation',
			      constraint = 'marketing_collaterals_scope_fkey',
			      table = 'marketing_collaterals';
	end if;
	return new;
end
$$;
create trigger marketing_collaterals_scope_exists before insert or update of scope_type, scope_id
	on marketing_collaterals for each row execute function marketing_collaterals_check_scope();

-- ---------------------------------------------------------------- audit log

-- One row per mutation (SPEC §2). actor_id is NULL for the system (scheduled jobs,
-- start-up); entity_id is NULL when there is no entity (e.g. a failed sign-in for an
-- unknown address).
create table audit_logs (
	id          uuid primary key default gen_random_uuid(),
	actor_id    uuid references users (id),
	action      text not null,
	entity_type text not null,
	entity_id   uuid,
	details     jsonb not null default '{}',
	created_at  timestamptz not null default now(),
	constraint audit_logs_action_check check (char_length(action) <= 100
		and action ~ '[^[:space:]]'),
	constraint audit_logs_entity_type_check check (char_length(entity_type) <= 100
		and entity_type ~ '[^[:space:]]')
);
-- Activity timeline of one entity, newest first.
create index audit_logs_entity_idx on audit_logs (entity_type, entity_id, created_at desc);
create index audit_logs_created_idx on audit_logs (created_at);
create index audit_logs_actor_idx on audit_logs (actor_id, created_at) where actor_id is not null;

-- Append-only, enforced here rather than trusted to the application: the audit trail
-- must survive a buggy or compromised code path. Statement-level triggers, so even an
-- UPDATE or DELETE that matches no row is refused, and TRUNCATE (which bypasses row
-- triggers) has its own. Only a superuser disabling triggers can get around this.
create function audit_logs_refuse_change() returns trigger
language plpgsql as $$
begin
	raise exception 'audit_logs is append-only: % is not allowed', tg_op
		using errcode = 'SP005', table = 'audit_logs',
		      hint = 'Audit rows are written once and never changed or removed.';
end
$$;
create trigger audit_logs_append_only before update or delete on audit_logs
	for each statement execute function audit_logs_refuse_change();
create trigger audit_logs_no_truncate before truncate on audit_logs
	for each statement execute function audit_logs_refuse_change();

-- ---------------------------------------------------------------- accounts: sessions etc.

-- Server-side sessions; the cookie holds a random token, the table only its hash, so a
-- leaked table does not leak usable sessions. last_seen_at is this table's "updated_at"
-- (it is written on every request, so it has no trigger).
create table sessions (
	id           uuid primary key default gen_random_uuid(),
	token_hash   bytea not null constraint sessions_token_hash_key unique,
	user_id      uuid not null references users (id) on delete cascade,
	csrf_token   text not null,
	created_at   timestamptz not null default now(),
	last_seen_at timestamptz not null default now(),
	expires_at   timestamptz not null,
	ip           text,
	user_agent   text
);
create index sessions_user_idx on sessions (user_id);
create index sessions_expires_idx on sessions (expires_at);

-- Deactivated users cannot sign in and their sessions end at once (SPEC §1): ending
-- them here makes that true for every code path that deactivates a user.
create function users_end_sessions() returns trigger
language plpgsql as $$
begin
	delete from sessions where user_id = new.id;
	return null;
end
$$;
create trigger users_deactivated_end_sessions after update of is_active on users
	for each row when (old.is_active and not new.is_active)
	execute function users_end_sessions();

create table password_resets (
	id         uuid primary key default gen_random_uuid(),
	token_hash bytea not null constraint password_resets_token_hash_key unique,
	user_id    uuid not null references users (id) on delete cascade,
	expires_at timestamptz not null,
	used_at    timestamptz,
	created_at timestamptz not null default now(),
	updated_at timestamptz not null default now()
);
create index password_resets_user_idx on password_resets (user_id);
create index password_resets_expires_idx on password_resets (expires_at);
create trigger password_resets_set_updated_at before update on password_resets
	for each row execute function set_updated_at();

-- Sign-in throttling: one row per attempt; the server counts recent failures per e-mail
-- (stored lower-cased) and per client address, and prunes old rows.
create table login_attempts (
	id         uuid primary key default gen_random_uuid(),
	email      text,
	ip         text,
	succeeded  boolean not null,
	created_at timestamptz not null default now()
);
create index login_attempts_email_idx on login_attempts (email, created_at);
create index login_attempts_ip_idx on login_attempts (ip, created_at);
create index login_attempts_created_idx on login_attempts (created_at);

-- ---------------------------------------------------------------- dedup, settings, mail

create table dedup_runs (
	id                uuid primary key default gen_random_uuid(),
	job_id            uuid references jobs (id),
	-- NULL when the schedule started the run.
	triggered_by      uuid references users (id),
	started_at        timestamptz not null default now(),
	finished_at       timestamptz,
	duration_ms       bigint,
	companies_flagged integer,
	contacts_flagged  integer,
	error             text,
	created_at        timestamptz not null default now(),
	updated_at        timestamptz not null default now(),
	constraint dedup_runs_counts_check check (duration_ms >= 0 and companies_flagged >= 0
		and contacts_flagged >= 0)
);
create index dedup_runs_started_idx on dedup_runs (started_at desc);
create index dedup_runs_job_idx on dedup_runs (job_id) where job_id is not null;
create index dedup_runs_triggered_by_idx on dedup_runs (triggered_by)
	where triggered_by is not null;
create trigger dedup_runs_set_updated_at before update on dedup_runs
	for each row execute function set_updated_at();

-- Settings changed in the browser (e.g. the dedup schedule); the config file gives the
-- defaults.
create table settings (
	key        text primary key,
	value      text,
	updated_by uuid references users (id),
	created_at timestamptz not null default now(),
	updated_at timestamptz not null default now(),
	constraint settings_key_check check (key ~ '^[a-z][a-z0-9_.]*$' and char_length(key) <= 100)
);
create index settings_updated_by_idx on settings (updated_by) where updated_by is not null;
create trigger settings_set_updated_at before update on settings
	for each row execute function set_updated_at();

-- Outgoing e-mail. Every message is written here; with an SMTP relay it is sent and
-- sent_at set, without one it stays for an Admin to read.
create table outbox (
	id         uuid primary key default gen_random_uuid(),
	to_address text not null,
	subject    text not null,
	body       text not null,
	attempts   integer not null default 0,
	sent_at    timestamptz,
	error      text,
	created_at timestamptz not null default now(),
	updated_at timestamptz not null default now(),
	constraint outbox_to_address_check check (char_length(to_address) <= 320
		and to_address ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
	constraint outbox_subject_check check (char_length(subject) <= 998),
	constraint outbox_attempts_check check (attempts >= 0)
);
create index outbox_created_idx on outbox (created_at desc);
create index outbox_unsent_idx on outbox (created_at) where sent_at is null;
create trigger outbox_set_updated_at before update on outbox
	for each row execute function set_updated_at();

-- ---------------------------------------------------------------- search (pg_trgm)

-- Trigram indexes for ILIKE '%term%' search, only when pg_trgm could be installed above.
-- Queries must use the same expressions: companies.name, contacts.email,
-- (first_name || ' ' || last_name), segments.name.
do $$
begin
	if exists (select 1 from pg_extension where extname = 'pg_trgm') then
		execute 'create index companies_name_trgm_idx on companies using gin (name gin_trgm_ops)';
		execute 'create index contacts_name_trgm_idx on contacts using gin '
			'((first_name || '' '' || last_name) gin_trgm_ops)';
		execute 'create index contacts_email_trgm_idx on contacts using gin (email gin_trgm_ops)';
		execute 'create index segments_name_trgm_idx on segments using gin (name gin_trgm_ops)';
	end if;
end
$$;
