-- 0008_assignments.sql — the assignment rules of SPEC §2 "Assignments", the SDR hand-off
-- and the meeting step of the contact pipeline, held by the database itself (issue 11).
--
-- Run inside a transaction by the migration runner (no BEGIN/COMMIT here).
--
-- The rules, whatever writes (the application, a script, psql):
--   * what goes to whom: a segment to a Researcher, an Approver or an SDR; a company to a
--     Researcher; a contact to an SDR (assignments.role_id names the role; left NULL it is
--     inferred from the roles the assignee holds and the assigner may hand out);
--   * the assignee is an active user who holds that role;
--   * only an approved company, and only an approved contact (or one further along), is
--     assigned;
--   * who assigns (assigned_by, NULL = the system) holds the grant: segments.assign_researcher
--     (segment → Researcher/Approver), segments.assign_sdr (segment → SDR), companies.assign
--     (company → Researcher), contacts.assign_sdr (contact → SDR) — grants, not role names,
--     so the matrix an Admin edits decides here too;
--   * the same (entity, user) pair once (0001's unique key); unassigning keeps the row
--     (is_active = false, unassigned_by, unassigned_at) and needs the same grant;
--   * an active contact → SDR assignment is the hand-off: the contact takes that SDR
--     (assigned_sdr_id) and moves approved → assigned_to_sdr in the same statement; an
--     earlier SDR's assignment of that contact ends (a hand-over); the contact's current
--     SDR cannot simply be unassigned, since its status never goes back;
--   * contacts.assigned_sdr_id names an active SDR;
--   * a meeting is scheduled (assigned_to_sdr → meeting_scheduled) by a holder of
--     contacts.schedule_meeting who is the contact's SDR, or an Admin or an Approver.
--
-- Errors raised here (the C code maps them to user messages and HTTP statuses)
--   SPA01  this kind of entity is not assigned to that role
--   SPA02  the assignee is deactivated or does not hold the role
--   SPA03  the company or contact is not approved
--   SPA04  the assigner or unassigner lacks the grant (the message names it)
--   SPA05  the contact's current SDR unassigned without a hand-over
--   SPA06  a meeting scheduled by someone who may not (not their contact, or no grant)
--   SPA07  the pair is already actively assigned; the meeting is already scheduled
--   SPA08  no such assignment / contact

alter table assignments
	add column unassigned_by uuid references users (id),
	add column unassigned_at timestamptz;
create index assignments_unassigned_by_idx on assignments (unassigned_by)
	where unassigned_by is not null;
-- "Who is on this entity": the pickers and detail views read the active rows of one entity.
create index assignments_entity_active_idx on assignments (entity_type, entity_id)
	where is_active;

-- ---------------------------------------------------------------- helpers

create function user_holds_role(p_user uuid, p_role text) returns boolean
language sql stable as $$
	select exists (select 1 from user_roles ur join roles r on r.id = ur.role_id
		       where ur.user_id = p_user and r.name = p_role)
$$;

create function user_has_permission(p_user uuid, p_permission text) returns boolean
language sql stable as $$
	select exists (select 1 from user_roles ur
		       join role_permissions rp on rp.role_id = ur.role_id
		       join permissions p on p.id = rp.permission_id
		       join users u on u.id = ur.user_id
		       where ur.user_id = p_user and u.is_active
			 and p.module || '.' || p.action = p_permission)
$$;

-- The grant that assigning entity_type to role_name needs; NULL when that pairing is not
-- an assignment at all.
create function assignment_permission(p_entity_type text, p_role text) returns text
language sql immutable as $$
	select case
		when p_entity_type = 'segment' and p_role in ('Researcher', 'Approver')
			then 'segments.assign_researcher'
		when p_entity_type = 'segment' and p_role = 'SDR' then 'segments.assign_sdr'
		when p_entity_type = 'company' and p_role = 'Researcher' then 'companies.assign'
		when p_entity_type = 'contact' and p_role = 'SDR' then 'contacts.assign_sdr'
	end
$$;

-- "a segment", "the company “Acme”", for messages.
create function assignment_entity_words(p_entity_type text, p_entity_id uuid) returns text
language sql stable as $$
	select case p_entity_type
		when 'segment' then 'the segment “' || (select name from segments where id = p_entity_id) || '”'
		when 'company' then 'the company “' || (select name from companies where id = p_entity_id) || '”'
		when 'contact' then (select first_name || ' ' || last_name from contacts where id = p_entity_id)
		else p_entity_type
	end
$$;

-- ---------------------------------------------------------------- the rules

create function assignments_check_rules() returns trigger
language plpgsql as $$
declare
	role_name   text;
	perm        text;
	who         text;
	who_active  boolean;
	ent_status  text;
	ent_name    text;
begin
	select name, is_active into who, who_active from users where id = new.assigned_to;
	if not found then
		return new; -- the foreign key reports the unknown user
	end if;

	-- The role: named, or inferred from what the assignee holds and the assigner may give.
	if new.role_id is null then
		select r.name into role_name
		from unnest(case new.entity_type
				when 'segment' then array['Researcher', 'Approver', 'SDR']
				when 'company' then array['Researcher']
				when 'contact' then array['SDR'] end)
			with ordinality as c (name, n)
		join roles r on r.name = c.name
		where user_holds_role(new.assigned_to, c.name)
		order by (new.assigned_by is null
			  or user_has_permission(new.assigned_by,
						 assignment_permission(new.entity_type, c.name))) desc,
			 c.n
		limit 1;
		if role_name is null then
			raise exception '% holds none of the roles % is assigned to (%).', who,
				case new.entity_type when 'segment' then 'a segment'
					when 'company' then 'a company' else 'a contact' end,
				case new.entity_type when 'segment' then 'Researcher, Approver or SDR'
					when 'company' then 'Researcher' else 'SDR' end
				using errcode = 'SPA02', table = 'assignments', column = 'assigned_to';
		end if;
		new.role_id := (select id from roles where name = role_name);
	else
		select name into role_name from roles where id = new.role_id;
	end if;

	perm := assignment_permission(new.entity_type, role_name);
	if perm is null then
		raise exception 'A % is not assigned to the % role: %.', new.entity_type,
			coalesce(role_name, 'unknown'),
			case new.entity_type when 'segment' then 'segments go to Researchers, Approvers or SDRs'
				when 'company' then 'companies go to Researchers'
				else 'contacts go to SDRs' end
			using errcode = 'SPA01', table = 'assignments', column = 'role_id';
	end if;
	if not who_active then
		raise exception '% is deactivated and cannot be assigned.', who
			using errcode = 'SPA02', table = 'assignments', column = 'assigned_to';
	end if;
	if not user_holds_role(new.assigned_to, role_name) then
		raise exception '% does not hold the % role, so cannot be assigned as one.', who, role_name
			using errcode = 'SPA02', table = 'assignments', column = 'assigned_to';
	end if;

	if new.entity_type = 'company' then
		select status, name into ent_status, ent_name from companies where id = new.entity_id;
		if found and ent_status <> 'approved' then
			raise exception 'The company “%” is %: only approved companies are assigned.',
				ent_name, ent_status
				using errcode = 'SPA03', table = 'assignments', column = 'entity_id';
		end if;
	elsif new.entity_type = 'contact' then
		select status, first_name || ' ' || last_name into ent_status, ent_name
			from contacts where id = new.entity_id;
		if found and ent_status = 'uploaded' then
			raise exception '% is not approved yet: approve the contact before handing it to an SDR.',
				ent_name
				using errcode = 'SPA03', table = 'assignments', column = 'entity_id';
		end if;
	end if;

	if new.assigned_by is not null and not user_has_permission(new.assigned_by, perm) then
		raise exception 'Assigning % to a% % needs the permission %.',
			case new.entity_type when 'segment' then 'a segment' when 'company' then 'a company'
				else 'a contact' end,
			case when role_name in ('Approver', 'SDR') then 'n' else '' end, role_name, perm
			using errcode = 'SPA04', table = 'assignments';
	end if;
	new.unassigned_by := null;
	new.unassigned_at := null;
	return new;
end
$$;

create trigger assignments_rules_insert before insert on assignments
	for each row when (new.is_active)
	execute function assignments_check_rules();
create trigger assignments_rules_update before update on assignments
	for each row when (new.is_active and (not old.is_active
		or old.entity_type is distinct from new.entity_type
		or old.entity_id is distinct from new.entity_id
		or old.assigned_to is distinct from new.assigned_to
		or old.role_id is distinct from new.role_id))
	execute function assignments_check_rules();

-- Unassigning: the same grant as assigning; the contact's current SDR stays (a contact
-- never goes back to "approved", so it is handed over by assigning another SDR instead).
create function assignments_check_unassign() returns trigger
language plpgsql as $$
declare
	role_name text;
	perm      text;
begin
	select name into role_name from roles where id = new.role_id;
	perm := assignment_permission(new.entity_type, role_name);
	if new.unassigned_by is not null and perm is not null
	   and not user_has_permission(new.unassigned_by, perm) then
		raise exception 'Unassigning needs the permission %.', perm
			using errcode = 'SPA04', table = 'assignments';
	end if;
	if new.entity_type = 'contact'
	   and exists (select 1 from contacts where id = new.entity_id
		       and assigned_sdr_id = new.assigned_to) then
		raise exception '% stays with % until another SDR is assigned: a contact handed to an SDR never goes back.',
			assignment_entity_words('contact', new.entity_id),
			(select name from users where id = new.assigned_to)
			using errcode = 'SPA05', table = 'assignments';
	end if;
	new.unassigned_at := coalesce(new.unassigned_at, now());
	return new;
end
$$;
create trigger assignments_unassign before update on assignments
	for each row when (old.is_active and not new.is_active)
	execute function assignments_check_unassign();

-- The hand-off: an active contact → SDR assignment moves the contact to that SDR (and from
-- approved to assigned_to_sdr), and ends the assignment of the SDR it had before.
create function assignments_hand_off() returns trigger
language plpgsql as $$
begin
	update contacts
	set assigned_sdr_id = new.assigned_to,
	    status = case when status = 'approved' then 'assigned_to_sdr' else status end,
	    status_changed_by = case when status = 'approved' then new.assigned_by
				     else status_changed_by end
	where id = new.entity_id and assigned_sdr_id is distinct from new.assigned_to;
	update assignments
	set is_active = false, unassigned_by = new.assigned_by
	where entity_type = 'contact' and entity_id = new.entity_id and is_active
	  and assigned_to <> new.assigned_to;
	return null;
end
$$;
create trigger assignments_contact_hand_off after insert or update on assignments
	for each row when (new.entity_type = 'contact' and new.is_active)
	execute function assignments_hand_off();

-- ---------------------------------------------------------------- contacts

create function contacts_check_sdr() returns trigger
language plpgsql as $$
declare
	who        text;
	who_active boolean;
begin
	select name, is_active into who, who_active from users where id = new.assigned_sdr_id;
	if not found then
		return new; -- the foreign key reports it
	end if;
	if not who_active then
		raise exception '% is deactivated and cannot take contacts.', who
			using errcode = 'SPA02', table = 'contacts', column = 'assigned_sdr_id';
	end if;
	if not user_holds_role(new.assigned_sdr_id, 'SDR') then
		raise exception '% does not hold the SDR role, so cannot take contacts.', who
			using errcode = 'SPA02', table = 'contacts', column = 'assigned_sdr_id';
	end if;
	return new;
end
$$;
create trigger contacts_sdr_insert before insert on contacts
	for each row when (new.assigned_sdr_id is not null)
	execute function contacts_check_sdr();
create trigger contacts_sdr_update before update on contacts
	for each row when (new.assigned_sdr_id is not null
		and old.assigned_sdr_id is distinct from new.assigned_sdr_id)
	execute function contacts_check_sdr();

-- SPEC §1: an SDR schedules meetings only for contacts assigned to them; Admins and
-- Approvers for any. status_changed_by is who did it (NULL = the system).
create function contacts_check_meeting() returns trigger
language plpgsql as $$
begin
	if new.status_changed_by is null then
		return new;
	end if;
	if not user_has_permission(new.status_changed_by, 'contacts.schedule_meeting') then
		raise exception 'Scheduling a meeting needs the permission contacts.schedule_meeting.'
			using errcode = 'SPA06', table = 'contacts', column = 'status';
	end if;
	if new.status_changed_by is distinct from new.assigned_sdr_id
	   and not user_holds_role(new.status_changed_by, 'Admin')
	   and not user_holds_role(new.status_changed_by, 'Approver') then
		raise exception '% is assigned to %: an SDR schedules meetings only for their own contacts.',
			new.first_name || ' ' || new.last_name,
			coalesce((select name from users where id = new.assigned_sdr_id), 'another SDR')
			using errcode = 'SPA06', table = 'contacts', column = 'status';
	end if;
	return new;
end
$$;
create trigger contacts_meeting_scheduled before update on contacts
	for each row when (new.status = 'meeting_scheduled' and old.status is distinct from new.status)
	execute function contacts_check_meeting();

-- ---------------------------------------------------------------- the statements

-- Assigns (or re-activates an ended assignment) with its audit row, in one statement.
-- The contact is locked first, so two hand-offs of one contact run one after the other.
-- SPA07 when the pair is already active (a concurrent duplicate meets the unique key, waits
-- for the first, then finds the row active).
create function assignment_assign(p_actor uuid, p_entity_type text, p_entity_id uuid,
				  p_user uuid, p_role_id uuid)
returns table (assignment_id uuid, role_name text, assignee text, entity_words text,
	       contact_status text)
language plpgsql as $$
declare
	a_id        uuid;
	a_role      uuid;
	old_status  text;
	old_sdr     text;
	new_status  text;
begin
	if p_entity_type = 'contact' then
		select k.status, u.name into old_status, old_sdr
		from contacts k left join users u on u.id = k.assigned_sdr_id
		where k.id = p_entity_id for update of k;
		if not found then
			raise exception 'There is no such contact.' using errcode = 'SPA08';
		end if;
	end if;
	insert into assignments as a (entity_type, entity_id, assigned_to, assigned_by, role_id)
	values (p_entity_type, p_entity_id, p_user, p_actor, p_role_id)
	on conflict (entity_type, entity_id, assigned_to) do update
		set is_active = true, assigned_by = excluded.assigned_by,
		    role_id = coalesce(excluded.role_id, a.role_id), created_at = now()
		where not a.is_active
	returning a.id, a.role_id into a_id, a_role;
	if a_id is null then
		raise exception '% is already assigned to %.',
			(select name from users where id = p_user),
			assignment_entity_words(p_entity_type, p_entity_id)
			using errcode = 'SPA07', table = 'assignments';
	end if;
	if p_entity_type = 'contact' then
		select status into new_status from contacts where id = p_entity_id;
	end if;
	insert into audit_logs (actor_id, action, entity_type, entity_id, details)
	select p_actor, 'assign', p_entity_type, p_entity_id,
	       jsonb_strip_nulls(jsonb_build_object('assignee', u.name, 'role', r.name,
			'user_id', u.id, 'assignment_id', a_id,
			'status', case when new_status is distinct from old_status then new_status end,
			'handed_over_from', case when old_sdr <> u.name then old_sdr end))
	from users u, roles r where u.id = p_user and r.id = a_role;
	return query select a_id, r.name, u.name, assignment_entity_words(p_entity_type, p_entity_id),
			    new_status
		from users u, roles r where u.id = p_user and r.id = a_role;
end
$$;

-- Ends an assignment, keeping the row, with its audit row. Returns nothing when it had
-- already ended (the caller says so); SPA08 when there is no such assignment.
create function assignment_unassign(p_actor uuid, p_id uuid)
returns table (entity_type text, entity_id uuid, assignee text, entity_words text,
	       was_active boolean)
language plpgsql as $$
declare
	a record;
begin
	select * into a from assignments where id = p_id for update;
	if not found then
		raise exception 'There is no such assignment.' using errcode = 'SPA08';
	end if;
	if a.is_active then
		update assignments set is_active = false, unassigned_by = p_actor where id = p_id;
		insert into audit_logs (actor_id, action, entity_type, entity_id, details)
		select p_actor, 'unassign', a.entity_type, a.entity_id,
		       jsonb_build_object('assignee', u.name, 'role', r.name, 'user_id', u.id,
					  'assignment_id', a.id)
		from users u left join roles r on r.id = a.role_id where u.id = a.assigned_to;
	end if;
	return query select a.entity_type, a.entity_id, u.name,
			    assignment_entity_words(a.entity_type, a.entity_id), a.is_active
		from users u where u.id = a.assigned_to;
end
$$;

-- assigned_to_sdr → meeting_scheduled with its audit row. Returns the contact's name and
-- SDR; when the contact is not at that step, raises SP002 with where it is instead (SPA07
-- when the meeting was scheduled already, naming who did it and when).
create function contact_schedule_meeting(p_actor uuid, p_contact uuid)
returns table (contact_name text, sdr text)
language plpgsql as $$
declare
	k record;
begin
	select c.*, u.name as sdr_name, sc.name as changed_by_name into k
	from contacts c left join users u on u.id = c.assigned_sdr_id
	left join users sc on sc.id = c.status_changed_by
	where c.id = p_contact for update of c;
	if not found then
		raise exception 'There is no such contact.' using errcode = 'SPA08';
	end if;
	if k.status = 'meeting_scheduled' then
		raise exception 'A meeting with % is already scheduled (by %, %).',
			k.first_name || ' ' || k.last_name, coalesce(k.changed_by_name, 'someone'),
			to_char(k.status_changed_at at time zone 'UTC', 'FMDD Mon YYYY, HH24:MI')
			using errcode = 'SPA07';
	elsif k.status <> 'assigned_to_sdr' then
		raise exception '% is % and not handed to an SDR yet: assign an SDR before scheduling a meeting.',
			k.first_name || ' ' || k.last_name, k.status
			using errcode = 'SP002';
	end if;
	update contacts set status = 'meeting_scheduled', status_changed_by = p_actor
	where id = p_contact;
	insert into audit_logs (actor_id, action, entity_type, entity_id, details)
	values (p_actor, 'schedule_meeting', 'contact', p_contact,
		jsonb_build_object('name', k.first_name || ' ' || k.last_name, 'sdr', k.sdr_name,
				   'status', 'meeting_scheduled'));
	return query select k.first_name || ' ' || k.last_name, k.sdr_name;
end
$$;

-- Bulk hand-off of selected contacts to one SDR: each contact on its own (a refusal of one
-- leaves the others assigned), in id order so two overlapping bulk assignments queue
-- rather than deadlock. One row per id: ok, and the reason when not.
create function assignment_assign_contacts(p_actor uuid, p_ids uuid[], p_user uuid)
returns table (contact_id uuid, contact_name text, ok boolean, message text)
language plpgsql as $$
declare
	cid uuid;
begin
	for cid in select distinct x from unnest(p_ids) x order by x loop
		contact_id := cid;
		contact_name := (select first_name || ' ' || last_name from contacts where id = cid);
		begin
			perform assignment_assign(p_actor, 'contact', cid, p_user, null);
			ok := true;
			message := null;
		exception when sqlstate 'SPA01' or sqlstate 'SPA02' or sqlstate 'SPA03'
			or sqlstate 'SPA04' or sqlstate 'SPA07' or sqlstate 'SPA08'
			or sqlstate '23503' then
			ok := false;
			message := sqlerrm;
		end;
		return next;
	end loop;
end
$$;
