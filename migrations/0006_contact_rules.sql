-- 0005_contact_rules.sql — the contact rules of SPEC §2 that 0001 left to the application,
-- and the indexes of the contacts list (issue 10).
--
-- Run inside a transaction by the migration runner (no BEGIN/COMMIT here).
--
-- Errors raised here (the C code maps them to user messages)
--   SP003  contact for a company that is not approved: the message says whether the
--          company is still pending (approve it first) or was rejected (never)
--   SP006  a contact's segment_id that is not its company's segment (on INSERT, and on
--          any UPDATE of segment_id that is not the company's own move)
--   23514  contacts_email_lower_check / contacts_email_2_lower_check: an e-mail address
--          with an upper-case ASCII letter (the application stores them lower-cased)

-- ---------------------------------------------------------------- e-mail addresses

-- Stored lower-cased (SPEC §2 "E-mail addresses: trim and lower-case"), so that the
-- duplicate key, look-ups by e-mail and exports all see one spelling. ASCII only, as the
-- application lower-cases (normalise_email): an internationalised local part keeps its
-- case, which is what its mail server decides on.
alter table contacts add constraint contacts_email_lower_check check (email !~ '[A-Z]'),
	add constraint contacts_email_2_lower_check check (email_2 !~ '[A-Z]');

-- ---------------------------------------------------------------- company and segment

-- Replaces 0001's contacts_check_company. A contact
--   * is created (or moved) only onto an approved company: a pending company is refused
--     with a message that says it is waiting for approval, a rejected one that it never
--     takes contacts (a rejection is final, so a rejected company has none);
--   * always has its company's segment: left NULL by the writer it is filled in here (the
--     server never takes a segment from the client); a different one is refused by name,
--     before the composite foreign key would refuse it with a less helpful message.
-- A company moving to another segment carries its contacts along through the foreign
-- key's ON UPDATE CASCADE; that UPDATE sets segment_id to the company's new segment,
-- which this check sees as equal, so the move is never refused here.
create or replace function contacts_check_company() returns trigger
language plpgsql as $$
declare
	c_status  text;
	c_segment uuid;
	c_name    text;
begin
	select status, segment_id, name into c_status, c_segment, c_name
		from companies where id = new.company_id;
	if not found then
		return new; -- the foreign key reports the unknown company
	end if;
	if (tg_op = 'INSERT' or old.company_id is distinct from new.company_id)
	   and c_status <> 'approved' then
		if c_status = 'pending' then
			raise exception 'The company “%” is still pending approval: contacts can be'
				' added once it is approved.', c_name
				using errcode = 'SP003', table = 'contacts', column = 'company_id';
		end if;
		raise exception 'The company “%” was rejected and cannot have contacts.', c_name
			using errcode = 'SP003', table = 'contacts', column = 'company_id';
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

drop trigger contacts_company_update on contacts;
create trigger contacts_company_update before update on contacts
	for each row when (old.company_id is distinct from new.company_id
			   or old.segment_id is distinct from new.segment_id)
	execute function contacts_check_company();

-- ---------------------------------------------------------------- list and search

-- The contacts list searches first and last name, e-mail, job title and the company's
-- name with ILIKE '%term%'. 0001 indexed the name and the e-mail; the job title joins
-- them here, and the company name is searched through companies_name_trgm_idx (the list
-- asks for company_id IN (companies whose name matches)). Only when pg_trgm is there.
do $$
begin
	if exists (select 1 from pg_extension where extname = 'pg_trgm') then
		execute 'create index contacts_job_title_trgm_idx on contacts using gin '
			'(job_title gin_trgm_ops)';
	end if;
end
$$;

-- The contact import finds "company named X in segment Y" among approved companies; the
-- dedup key index (segment_id, lower(name), …) serves it. The researcher filter of the
-- list (created_by) and the SDR filter (assigned_sdr_id) have theirs from 0001.
