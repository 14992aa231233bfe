# bench/lib.sh — shared by bench/run, bench/gen, bench/pages and bench/csv-import
# (sourced, not run).
#
# Everything runs against the embedded PostgreSQL cluster of a dedicated var dir
# (var/bench), never the developer's own var/. The platform benchmark uses that
# cluster's default database (spanner, with the demo data); each data scale of the
# page benchmark has its own database in the same cluster (bench_x1, bench_x10,
# bench_x100), so generated data is kept between runs and re-made only when the
# generator or the migrations change.
#
# The server is Kore with the release module: scripts/kore-serve, which execs
# `kore -f -n -r` (a parent process plus one worker process per CPU). The database is
# prepared and stopped by build/spanner-ctl (--init-only, --stop-db).
#
# Environment: BENCH_CTL (build/spanner-ctl), BENCH_MODULE (build/spanner.so: the
# release module; kore-serve's own SPANNER_MODULE is not read, so that a test
# session's sanitizer module never gets measured by accident), BENCH_VAR_DIR
# (var/bench), SPANNER_KORE_WORKERS (kore.conf's default: one worker per CPU).

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bench_ctl=${BENCH_CTL:-build/spanner-ctl}
bench_module=${BENCH_MODULE:-build/spanner.so}
bench_var=${BENCH_VAR_DIR:-var/bench}
export SPANNER_ADMIN_PASSWORD=${SPANNER_ADMIN_PASSWORD:-bench-admin-password}

bench_die() {
	echo "bench: $*" >&2
	exit 1
}

# Starts the bench cluster if needed (creating and migrating it the first time) and
# sets bench_pg to its conninfo without a dbname ("host=… port=5432 user=spanner").
bench_cluster() {
	local conn
	bench_check_build
	mkdir -p "$(dirname "$bench_var")"
	conn=$(env -u SPANNER_DATABASE SPANNER_VAR_DIR="$bench_var" "$bench_ctl" --init-only \
		2>>"$bench_var.init.log") || bench_die "cannot start the bench cluster; see $bench_var.init.log"
	bench_pg=${conn% dbname=*}
}

bench_check_build() {
	[ -x "$bench_ctl" ] || bench_die "$bench_ctl is missing: run make build"
	[ -f "$bench_module" ] || bench_die "$bench_module is missing: run make build"
	command -v kore >/dev/null || bench_die "kore is missing: make deps"
}

bench_stop_cluster() {
	env -u SPANNER_DATABASE SPANNER_VAR_DIR="$bench_var" "$bench_ctl" --stop-db \
		>/dev/null 2>&1 || true
}

# ---------------------------------------------------------------- the Kore server

bench_kore_pid=
bench_kore_since=

# Field N (as numbered in proc(5)) of /proc/PID/stat; the command name may hold spaces.
bench_proc_stat() {
	local rest
	rest=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	rest=${rest##*) }
	awk -v n="$(($2 - 2))" '{ print $n }' <<<"$rest"
}

# Starts Kore with the bench module in the background, in a session (and process
# group) of its own, so that its workers can be killed with it:
#   bench_kore_start PORT LOG [env arguments: NAME=VALUE, -u NAME …]
# Sets bench_kore_pid to the Kore parent's pid (kore-serve execs kore) and returns at
# once; the caller waits for the first answer. Kore's pid file and upload directory go
# under $bench_var/kore/PORT. The access log is off, as in every measurement.
bench_kore_start() {
	local port=$1 log=$2
	shift 2
	# Without job control a background job is not a process group leader, so setsid
	# makes the new session in place (no fork): $! is kore-serve, then kore itself.
	setsid env "$@" SPANNER_BIND="127.0.0.1:$port" SPANNER_BASE_URL="http://127.0.0.1:$port" \
		SPANNER_LOG_ACCESS=off SPANNER_MODULE="$bench_module" \
		SPANNER_KORE_DIR="$bench_var/kore/$port" scripts/kore-serve >"$log" 2>&1 &
	bench_kore_pid=$!
	# Its start time (kept through the execs) tells it from a later process that gets
	# the same pid: bash reaps its children at once, so the pid is free when it ends.
	bench_kore_since=$(bench_proc_stat "$bench_kore_pid" 22) || bench_kore_since=gone
}

# True while the Kore parent runs (not once it is a zombie, nor another process
# that got its pid).
bench_kore_alive() {
	[ -n "$bench_kore_pid" ] || return 1
	local state
	state=$(bench_proc_stat "$bench_kore_pid" 3) || return 1
	[ "$state" != Z ] && [ "$(bench_proc_stat "$bench_kore_pid" 22)" = "$bench_kore_since" ]
}

# Kills what is left of Kore's process group once its parent is gone. The group's id
# (the parent's pid) cannot be given to a new process while a member is left, so any
# member found is one of ours.
bench_kore_kill_leftovers() {
	[ -n "$bench_kore_pid" ] || return 0
	if bench_kore_alive || pgrep -g "$bench_kore_pid" >/dev/null; then
		kill -KILL -- "-$bench_kore_pid" 2>/dev/null || true
	fi
}

# After Kore's parent ended by itself (call it in this shell, not in $(…)): reaps it,
# kills what is left of its group, and sets bench_kore_end to how it ended, e.g.
# "Kore's parent is gone: killed by signal 9 (SIGKILL)" — a SIGKILL that Kore's log
# says nothing about came from outside. Sets it to "" while Kore runs.
bench_kore_reap() {
	local rc=0
	bench_kore_end=
	[ -n "$bench_kore_pid" ] && ! bench_kore_alive || return 0
	wait "$bench_kore_pid" 2>/dev/null || rc=$?
	bench_kore_kill_leftovers
	bench_kore_pid=
	if [ "$rc" -gt 128 ]; then
		bench_kore_end="Kore's parent is gone: killed by signal $((rc - 128)) (SIG$(kill -l $((rc - 128))))."
	else
		bench_kore_end="Kore's parent is gone: exit status $rc."
	fi
}

# Stops Kore: SIGTERM to the parent (it stops its workers, which let running jobs
# finish for up to 5 s), then SIGKILL to the whole process group if the parent still
# runs after 15 s, or to whatever is left of the group after the parent exited.
bench_kore_stop() {
	[ -n "$bench_kore_pid" ] || return 0
	! bench_kore_alive || kill -TERM "$bench_kore_pid" 2>/dev/null || true
	for _ in $(seq 150); do
		bench_kore_alive || break
		sleep 0.1
	done
	bench_kore_kill_leftovers
	wait "$bench_kore_pid" 2>/dev/null || true
	bench_kore_pid=
}

# The Kore processes: the parent and its children (the workers), one pid a line.
bench_kore_pids() {
	[ -n "$bench_kore_pid" ] || return 0
	echo "$bench_kore_pid"
	pgrep -P "$bench_kore_pid" || true
}

# The workers' pids (the parent's children), one a line.
bench_kore_workers() {
	[ -n "$bench_kore_pid" ] || return 0
	pgrep -P "$bench_kore_pid" || true
}

# Sum of one /proc/PID/status field (kB) over all Kore processes: bench_kore_mem VmRSS.
# Shared pages (the code, what the workers inherited from the parent) are counted once
# per process, so this is the upper bound; bench_kore_pss is the fair share.
bench_kore_mem() {
	local field=$1 p total=0 kb
	for p in $(bench_kore_pids); do
		kb=$(awk -v k="$field:" '$1 == k { print $2 }' "/proc/$p/status" 2>/dev/null) || kb=0
		total=$((total + ${kb:-0}))
	done
	echo "$total"
}

# Proportional set size (kB) of all Kore processes together: shared pages divided
# among the processes that share them.
bench_kore_pss() {
	local p total=0 kb
	for p in $(bench_kore_pids); do
		kb=$(awk '$1 == "Pss:" { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null) || kb=0
		total=$((total + ${kb:-0}))
	done
	echo "$total"
}

# kB as "12.3 MB".
bench_mb() { awk -v k="$1" 'BEGIN { printf "%.1f MB", k / 1024 }'; }

# psql on one database of the bench cluster: bench_psql DB [psql args…]
bench_psql() {
	local db=$1
	shift
	psql "$bench_pg dbname=$db" -X -q -v ON_ERROR_STOP=1 "$@"
}

bench_db() { echo "bench_x$1"; }

# What the data of a scale depends on: the generator and the schema.
bench_gen_stamp() {
	echo "spanner bench scale=$1 $(cat bench/gen.sql migrations/*.sql | sha256sum | cut -c1-16)"
}

bench_machine() {
	echo "$(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)),"\
		"$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), Linux $(uname -r)"
}

# Replaces the part of bench/RESULTS.md between "<!-- bench:NAME -->" and
# "<!-- /bench:NAME -->" with the contents of FILE (appending the section when it is
# not there yet). Everything else in RESULTS.md — notes, analysis — is kept.
# BENCH_RESULTS names another file instead (a smoke run that must not touch the record).
bench_section() {
	local name=$1 file=$2 results=${BENCH_RESULTS:-bench/RESULTS.md} tmp
	[ -f "$results" ] || printf '# Spanner — benchmark results\n' >"$results"
	tmp=$(mktemp)
	if grep -qF "<!-- bench:$name -->" "$results"; then
		awk -v first="<!-- bench:$name -->" -v last="<!-- /bench:$name -->" -v file="$file" '
			$0 == first { print; while ((getline line < file) > 0) print line; skip = 1; next }
			$0 == last { skip = 0 }
			!skip { print }' "$results" >"$tmp"
	else
		{ cat "$results"; printf '\n<!-- bench:%s -->\n' "$name"; cat "$file"
		  printf '<!-- /bench:%s -->\n' "$name"; } >"$tmp"
	fi
	cat "$tmp" >"$results"
	rm -f "$tmp"
}

# Percent of the machine's CPU time busy over one second (all processes: other people's
# tests included, which is the point).
bench_busy() {
	local a b
	a=($(head -1 /proc/stat))
	sleep 1
	b=($(head -1 /proc/stat))
	local total=0 idle k
	for k in 1 2 3 4 5 6 7 8; do total=$((total + b[k] - a[k])); done
	idle=$((b[4] - a[4] + b[5] - a[5]))
	echo $((total > 0 ? 100 * (total - idle) / total : 0))
}

# Waits (up to BENCH_QUIET_WAIT seconds, default 120) until the machine is at most
# BENCH_QUIET_MAX percent busy (default 15) before a measurement: other work on the same
# two cores otherwise decides the result. Prints the busy figure it started at.
bench_wait_quiet() {
	local waited=0 busy
	while :; do
		busy=$(bench_busy)
		if [ "$busy" -le "${BENCH_QUIET_MAX:-15}" ] || [ "$waited" -ge "${BENCH_QUIET_WAIT:-120}" ]; then
			echo "$busy"
			return
		fi
		sleep 4
		waited=$((waited + 5))
	done
}
