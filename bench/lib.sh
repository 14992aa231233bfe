# bench/lib.sh — shared by bench/run, bench/gen and bench/pages (sourced, not run).
#
# Everything runs against the embedded PostgreSQL cluster of a dedicated var dir
# (var/bench), never the developer's own var/. The platform benchmark uses that
# cluster's default database (spanner, with the demo data); each data scale of the
# page benchmark has its own database in the same cluster (bench_x1, bench_x10,
# bench_x100), so generated data is kept between runs and re-made only when the
# generator or the migrations change.

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bench_bin=${SPANNER_BIN:-build/spanner}
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
	[ -x "$bench_bin" ] || bench_die "$bench_bin is missing: run make build"
	mkdir -p "$(dirname "$bench_var")"
	conn=$(env -u SPANNER_DATABASE SPANNER_VAR_DIR="$bench_var" "$bench_bin" --init-only \
		2>>"$bench_var.init.log") || bench_die "cannot start the bench cluster; see $bench_var.init.log"
	bench_pg=${conn% dbname=*}
}

bench_stop_cluster() {
	env -u SPANNER_DATABASE SPANNER_VAR_DIR="$bench_var" "$bench_bin" --stop-db \
		>/dev/null 2>&1 || true
}

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
bench_section() {
	local name=$1 file=$2 results=bench/RESULTS.md tmp
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
