-- The archived-segment rule for new companies, checked once per INSERT statement
-- instead of once per row.
--
-- Why: a CSV import inserts tens of thousands of companies in one INSERT ... SELECT,
-- and the per-row trigger of 0001 looked up the segment for every one of them (about
-- a tenth of the import's time). A statement-level trigger over the transition table
-- joins all new rows to segments in one query. The rule, the SQLSTATE (SP004) and the
-- message are unchanged; moving a company to another segment keeps its per-row check
-- (companies_active_segment_update), where one row at a time is the normal case.

drop trigger companies_active_segment_insert on companies;

create function companies_require_active_segments() returns trigger
language plpgsql as $$
declare
	bad uuid;
begin
	select n.segment_id into bad
	from new_companies n join segments s on s.id = n.segment_id
	where s.status = 'archived'
	limit 1;
	if found then
		raise exception 'segment % is archived and accepts no new companies', bad
			using errcode = 'SP004', table = 'companies', column = 'segment_id';
	end if;
	return null;
end
$$;

create trigger companies_active_segment_insert after insert on companies
	referencing new table as new_companies
	for each statement execute function companies_require_active_segments();
