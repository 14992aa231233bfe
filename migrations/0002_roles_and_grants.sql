-- 0002_roles_and_grants.sql — the six fixed roles, every permission of SPEC §1 as one
-- (module, action) row, and the default grants (role_permissions) exactly as SPEC §1's
-- table gives them. Admins change the grants later on the grants page; this file only
-- sets the starting point.
--
-- Run inside one transaction by the migration runner (no BEGIN/COMMIT here). The
-- ON CONFLICT clauses make it harmless on a database that already has some of the rows.

insert into roles (name, description) values
	('Admin', 'Manages user accounts and the permission grants; holds every permission by default.'),
	('Segment Owner', 'Owns market segments and their offerings, assigns researchers and SDRs to segments, manages marketing collateral.'),
	('Researcher', 'Researches companies and contacts in assigned segments, by hand or by CSV upload.'),
	('Approver', 'Senior researcher: approves or rejects companies, approves contacts and hands them to SDRs; holds every Researcher permission too.'),
	('SDR', 'Sales development representative: works the contacts assigned to them and schedules meetings.'),
	('Marketing', 'Adds and maintains marketing collateral links for segments, offerings and leads.')
on conflict (name) do nothing;

insert into permissions (module, action, description) values
	('users', 'manage', 'Create, edit, deactivate and reactivate users, and set their roles'),
	('grants', 'manage', 'Edit the role × permission grants matrix'),
	('segments', 'create', 'Create segments'),
	('segments', 'edit', 'Edit segments and the offerings attached to them'),
	('segments', 'archive', 'Archive segments'),
	('offerings', 'create', 'Create offerings'),
	('offerings', 'edit', 'Edit offerings'),
	('segments', 'assign_researcher', 'Assign a segment to a Researcher or an Approver'),
	('segments', 'assign_sdr', 'Assign a segment to an SDR'),
	('companies', 'create', 'Add companies'),
	('companies', 'edit', 'Edit companies'),
	('companies', 'upload_csv', 'Import companies from a CSV file and correct failed rows'),
	('companies', 'approve', 'Approve pending companies'),
	('companies', 'reject', 'Reject pending companies, with a reason'),
	('companies', 'assign', 'Assign an approved company to a Researcher'),
	('contacts', 'create', 'Add contacts to approved companies'),
	('contacts', 'edit', 'Edit contacts'),
	('contacts', 'upload_csv', 'Import contacts from a CSV file and correct failed rows'),
	('contacts', 'approve', 'Approve uploaded contacts, one by one or in bulk'),
	('contacts', 'assign_sdr', 'Assign an approved contact to an SDR'),
	('contacts', 'schedule_meeting', 'Record a meeting scheduled with a contact (SDRs: only their own contacts)'),
	('collateral', 'manage', 'Add, edit and remove marketing collateral links'),
	('dedup', 'run', 'Run the duplicate detection job now and change its schedule'),
	('export', 'csv', 'Export the current list view as CSV')
on conflict (module, action) do nothing;

-- Default grants, one row of SPEC §1's table per permission. Approver's set is a
-- superset of Researcher's (companies/contacts create, edit, upload_csv and export.csv),
-- as SPEC §1 requires of a senior researcher.
insert into role_permissions (role_id, permission_id)
select r.id, p.id
from (values
	('users.manage',               array['Admin']),
	('grants.manage',              array['Admin']),
	('segments.create',            array['Admin', 'Segment Owner']),
	('segments.edit',              array['Admin', 'Segment Owner']),
	('segments.archive',           array['Admin', 'Segment Owner']),
	('offerings.create',           array['Admin', 'Segment Owner', 'Approver']),
	('offerings.edit',             array['Admin', 'Segment Owner', 'Approver']),
	('segments.assign_researcher', array['Admin', 'Segment Owner', 'Approver']),
	('segments.assign_sdr',        array['Admin', 'Segment Owner']),
	('companies.create',           array['Admin', 'Researcher', 'Approver']),
	('companies.edit',             array['Admin', 'Researcher', 'Approver']),
	('companies.upload_csv',       array['Admin', 'Researcher', 'Approver']),
	('companies.approve',          array['Admin', 'Approver']),
	('companies.reject',           array['Admin', 'Approver']),
	('companies.assign',           array['Admin', 'Approver']),
	('contacts.create',            array['Admin', 'Researcher', 'Approver']),
	('contacts.edit',              array['Admin', 'Researcher', 'Approver']),
	('contacts.upload_csv',        array['Admin', 'Researcher', 'Approver']),
	('contacts.approve',           array['Admin', 'Approver']),
	('contacts.assign_sdr',        array['Admin', 'Approver']),
	('contacts.schedule_meeting',  array['Admin', 'Approver', 'SDR']),
	('collateral.manage',          array['Admin', 'Segment Owner', 'Marketing']),
	('dedup.run',                  array['Admin']),
	('export.csv',                 array['Admin', 'Segment Owner', 'Researcher', 'Approver',
	                                     'SDR', 'Marketing'])
) as g (permission, role_names)
cross join lateral unnest(g.role_names) as rn (role_name)
join roles r on r.name = rn.role_name
join permissions p on p.module || '.' || p.action = g.permission
on conflict (role_id, permission_id) do nothing;

-- Guard against a typo above silently dropping a grant: every name must have matched
-- (Admin 24 + Segment Owner 9 + Researcher 7 + Approver 16 + SDR 2 + Marketing 2).
do $$
declare
	n integer;
begin
	select count(*) into n from role_permissions;
	if n <> 60 then
		raise exception 'default grants: % rows, expected 60', n;
	end if;
end
$$;
