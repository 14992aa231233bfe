-- The sign-in throttle, decided in the database in one statement per attempt.
--
-- Why here: the check ("may this attempt go on?") and the record of the attempt
-- must be one atomic step, or a burst of simultaneous guesses all read "4
-- failures so far" and all get checked. signin_reserve takes transaction-level
-- advisory locks on the account and on the client address, counts, and
-- inserts the attempt as a failure before the password is checked; the
-- caller turns it into a success afterwards (signin_finish's UPDATE in
-- accounts.c). A plpgsql function is volatile, so each of its statements sees
-- what the attempts before it committed while it waited for the lock.
--
-- The policy (README "Sign-in throttle"), f = login_max_failures:
--   * account + address: f failures since the account's last success (within a
--     day) pass freely; after that each try waits 30 s, 60 s, 120 s ... after
--     the last counted failure, at most login_window.
--   * address, across accounts and blank e-mails: 4f failures within
--     login_window pass freely; then 1 s, 2 s, 4 s ... at most login_window.
--     Small steps first: many people may share one address (NAT).
--   * account, across addresses: never a refusal (or anyone could lock anyone
--     out), only a bounded slow-down past 4f failures within login_window:
--     250 ms more per failure, at most p_slow_max_ms.
--   * a refused try is recorded (refused = true) but never counted, so
--     hammering a locked door does not keep it locked;
--   * a success of the account (a sign-in, or a sign-in by a password-reset
--     link) clears the account's and its addresses' counts.

alter table login_attempts
	add column refused boolean not null default false,
	add column reason text;

comment on column login_attempts.refused is
	'Refused by the throttle without checking the password; not counted as a failure.';

create function signin_reserve(p_email text, p_ip text, p_free int, p_window int,
			       p_slow_max_ms int,
			       out attempt_id uuid, out retry_after int, out slow_ms int)
language plpgsql volatile as $$
declare
	v_since timestamptz := '-infinity';
	v_n bigint;
	v_last timestamptz;
	v_user uuid;
begin
	retry_after := 0;
	slow_ms := 0;
	-- The locks are held until commit: without waiting for the WAL flush, a
	-- burst from one address passes in microseconds per attempt, not
	-- milliseconds. Losing the last attempts in a crash forgives a few guesses.
	perform set_config('synchronous_commit', 'off', true);
	-- Always the account first, then the address: one order, no deadlock.
	if p_email is not null then
		perform pg_advisory_xact_lock(1, hashtext(p_email));
	end if;
	perform pg_advisory_xact_lock(2, hashtext(p_ip));

	if p_email is not null then
		select coalesce(max(created_at), '-infinity') into v_since
		from login_attempts where email = p_email and succeeded;

		select count(*), max(created_at) into v_n, v_last from login_attempts
		where email = p_email and ip = p_ip and not succeeded and not refused
		  and created_at > greatest(v_since, now() - interval '1 day');
		if v_n >= p_free then
			retry_after := greatest(retry_after, ceil(extract(epoch from
				v_last + make_interval(secs => least(p_window,
					30 * 2 ^ least(v_n - p_free, 16))) - clock_timestamp()))::int);
		end if;

		select count(*) into v_n from login_attempts
		where email = p_email and not succeeded and not refused
		  and created_at > greatest(v_since, now() - make_interval(secs => p_window));
		if v_n >= 4 * p_free then
			slow_ms := least(p_slow_max_ms, 250 * (v_n - 4 * p_free + 1))::int;
		end if;
	end if;

	select count(*), max(created_at) into v_n, v_last from login_attempts
	where ip = p_ip and not succeeded and not refused
	  and created_at > now() - make_interval(secs => p_window);
	if v_n >= 4 * p_free then
		retry_after := greatest(retry_after, ceil(extract(epoch from
			v_last + make_interval(secs => least(p_window,
				2 ^ least(v_n - 4 * p_free, 16))) - clock_timestamp()))::int);
	end if;

	if retry_after > 0 then
		slow_ms := 0;
		insert into login_attempts (email, ip, succeeded, refused, reason)
		values (p_email, p_ip, false, true, 'throttled')
		returning id into attempt_id;
		select id into v_user from users where lower(email) = p_email;
		insert into audit_logs (actor_id, action, entity_type, entity_id, details)
		values (v_user, 'sign_in_failed', 'user', v_user,
			jsonb_build_object('email', p_email, 'ip', p_ip, 'reason', 'throttled',
					   'retry_after', retry_after));
	else
		-- Counted as a failure until the caller records the outcome.
		insert into login_attempts (email, ip, succeeded, reason)
		values (p_email, p_ip, false, 'checking')
		returning id into attempt_id;
	end if;
end
$$;

-- The pair count filters on address within one account's rows.
create index login_attempts_email_ip_idx on login_attempts (email, ip, created_at);
