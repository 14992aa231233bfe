-- The organisation always keeps an active Admin (SPEC §1: Admins create every account,
-- so with none left nobody could ever manage users again).
--
-- The handlers refuse to deactivate the last active Admin or to take the Admin role
-- away from them (domain/users.c, which serialises on the Admin role's row lock). This
-- is the same rule in the database, so no other way in — a script, psql, a future
-- handler — can break it either:
--   SP007  the change would leave no active user holding the Admin role
--
-- Deferred to the end of the transaction: saving a user's roles deletes the roles not
-- kept and inserts the new ones, and only the end state matters. The check takes the
-- Admin role's row lock as the handlers do, so two transactions that each remove a
-- different one of the last two Admins are decided one after the other, and the
-- second sees the first's commit (READ COMMITTED: a fresh snapshot per statement).

create function keep_an_active_admin() returns trigger
language plpgsql as $$
declare
	admin_role uuid;
	was_admin boolean;
begin
	select id into admin_role from roles where name = 'Admin' for no key update;
	if admin_role is null then
		return null;
	end if;
	if tg_table_name = 'users' then
		-- only an active Admin becoming inactive can leave none
		select exists (select 1 from user_roles where user_id = old.id and role_id = admin_role)
			into was_admin;
		if not (old.is_active and was_admin) then
			return null;
		end if;
	else
		if old.role_id <> admin_role
		   or not exists (select 1 from users where id = old.user_id and is_active) then
			return null;
		end if;
	end if;
	if not exists (select 1 from user_roles ur join users u on u.id = ur.user_id
		       where ur.role_id = admin_role and u.is_active) then
		raise exception 'the last active Admin must stay active and keep the Admin role'
			using errcode = 'SP007', table = tg_table_name;
	end if;
	return null;
end
$$;

create constraint trigger users_keep_an_active_admin
	after update of is_active on users
	deferrable initially deferred
	for each row when (old.is_active and not new.is_active)
	execute function keep_an_active_admin();

create constraint trigger user_roles_keep_an_active_admin
	after delete or update on user_roles
	deferrable initially deferred
	for each row
	execute function keep_an_active_admin();
