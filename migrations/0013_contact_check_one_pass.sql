-- 0013_contact_check_one_pass.sql — a contact import's company check reads each
-- company once (issue 14, item 1).
--
-- Run inside a transaction by the migration runner (no BEGIN/COMMIT here).
--
-- 0010's contacts_check_new_rows looked the new contacts' companies up four times:
-- to lock them, to find one that does not exist, one that is not approved, and one in
-- another segment. A contact file names a company per few rows, so at 36,000 rows that
-- is some 100,000 index look-ups more than needed (bench/table-costs put the trigger at
-- 16% of the INSERT's CPU). Here the companies are read once, locked as a foreign key
-- locks them, and every rule is judged on what that read returned. The errors, and
-- their order, are 0010's: unknown company (23503 under the old constraint name), a
-- company not approved (SP003), another segment (SP006), then creator and batch.
create or replace function contacts_check_new_rows() returns trigger
language plpgsql as $$
declare
	cos       uuid[];
	segs      uuid[];
	creators  uuid[];
	batches   uuid[];
	missing   uuid;
	bad_name  text;
	bad_state text;
	moved     uuid;
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
	-- The first offender of each rule, from one read of the companies named.
	with locked as materialized (
		select id, name, status, segment_id from companies
		where id = any (cos) for key share)
	select (array_agg(x.company_id) filter (where c.id is null))[1],
	       (array_agg(c.name) filter (where c.status <> 'approved'))[1],
	       (array_agg(c.status) filter (where c.status <> 'approved'))[1],
	       (array_agg(x.company_id) filter (where c.segment_id <> x.segment_id))[1],
	       (array_agg(c.segment_id) filter (where c.segment_id <> x.segment_id))[1],
	       (array_agg(x.segment_id) filter (where c.segment_id <> x.segment_id))[1]
		into missing, bad_name, bad_state, moved, c_segment, n_segment
		from unnest(cos, segs) x (company_id, segment_id)
		left join locked c on c.id = x.company_id;
	if missing is not null then
		perform raise_missing_reference('contacts', 'contacts_company_segment_fkey',
						'company_id', missing::text, 'companies');
	end if;
	if bad_state is not null then
		perform raise_company_not_approved(bad_name, bad_state);
	end if;
	if moved is not null then
		raise exception 'A contact''s segment is always its company''s segment.'
			using errcode = 'SP006', table = 'contacts', column = 'segment_id',
			      detail = format('company %s is in segment %s, not %s', moved, c_segment,
					      n_segment);
	end if;
	perform require_references('contacts', 'contacts_created_by_fkey', 'created_by', 'users',
				   creators);
	perform require_references('contacts', 'contacts_batch_id_fkey', 'batch_id',
				   'upload_batches', batches);
	return null;
end
$$;
