#!/usr/bin/env bash
# The shipped TLS proxy recipe, conf/nginx/spanner.conf, run for real in front
# of a running Spanner server.
#
#   tests/integration/proxy-test.sh http://127.0.0.1:PORT
#
# $1 is a running Spanner (Kore) server on plain HTTP, started with
# trust_proxy on (SPANNER_TRUST_PROXY=1). The script makes a throw-away
# self-signed certificate for localhost, renders the recipe with free ports,
# that certificate and $1 as the only upstream server, starts nginx as a
# throw-away instance in a temporary directory, checks through it with curl,
# then stops nginx and removes the directory, whatever happens.
#
# Environment (all optional):
#   NGINX                        the nginx binary (default: nginx on PATH, else /usr/sbin/nginx)
#   SPANNER_PROXY_TEST_EMAIL     with the password below: also sign in through the
#   SPANNER_PROXY_TEST_PASSWORD  proxy and check the session cookie (one sign-in)
#   PROXY_TEST_KEEP=1            keep the temporary directory (nginx logs) for debugging
#
# Output: "ok N - ..." / "not ok N - ..." lines, diagnostics as "# ...", and a
# last line "N passed, N failed". Exit status 0 only when nothing failed.
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
recipe=$root/conf/nginx/spanner.conf

passed=0
failed=0
n=0
ok() {
	n=$((n + 1))
	passed=$((passed + 1))
	echo "ok $n - $1"
}
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	shift
	local line
	for line in "$@"; do
		echo "#   $line"
	done
}
check() { # check CONDITION-STATUS DESCRIPTION [DIAGNOSTIC...]
	local rc=$1
	shift
	if [ "$rc" -eq 0 ]; then
		ok "$1"
	else
		not_ok "$@"
	fi
}
summary() {
	echo "$passed passed, $failed failed"
}
bail() { # a set-up step failed: one failure, the summary, exit
	not_ok "$@"
	summary
	exit 1
}

# ---------------------------------------------------------------- arguments

upstream=${1:-}
if [[ ! $upstream =~ ^http://([^/:]+|\[[0-9a-fA-F:]+\])(:([0-9]+))?/?$ ]]; then
	echo "usage: $0 http://HOST:PORT   (a running Spanner server, trust_proxy on)" >&2
	exit 2
fi
upstream_server=${BASH_REMATCH[1]}:${BASH_REMATCH[3]:-80}

nginx_bin=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
[ -x "$nginx_bin" ] || bail "set-up: nginx not found (apt-get install nginx, or set NGINX)"
command -v openssl >/dev/null || bail "set-up: openssl not found"
command -v curl >/dev/null || bail "set-up: curl not found"
[ -f "$recipe" ] || bail "set-up: $recipe is missing"

# ---------------------------------------------------------------- clean-up

dir=$(mktemp -d "${TMPDIR:-/tmp}/spanner-proxy.XXXXXX") || bail "set-up: mktemp failed"
nginx_pid=

stop_nginx() {
	[ -n "$nginx_pid" ] || return 0
	if kill -0 "$nginx_pid" 2>/dev/null; then
		kill -TERM "$nginx_pid" 2>/dev/null
		local _
		for _ in $(seq 50); do
			kill -0 "$nginx_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$nginx_pid" 2>/dev/null
	fi
	wait "$nginx_pid" 2>/dev/null
	nginx_pid=
}
cleanup() {
	stop_nginx
	if [ "${PROXY_TEST_KEEP:-0}" = 1 ]; then
		echo "# kept $dir"
	else
		rm -rf "$dir"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- certificate

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
	-keyout "$dir/key.pem" -out "$dir/cert.pem" >"$dir/openssl.log" 2>&1 ||
	bail "set-up: openssl could not make a certificate" "$(cat "$dir/openssl.log")"
chmod 600 "$dir/key.pem"

# ---------------------------------------------------------------- render and start nginx

# A port on 127.0.0.1 that nothing answers on (nginx start-up retries on a clash).
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		[ "$p" != "${1:-}" ] || continue
		(: </dev/tcp/127.0.0.1/"$p") 2>/dev/null || {
			echo "$p"
			return
		}
	done
}

# The recipe must still have the lines this test rewrites.
# shellcheck disable=SC2016 # the patterns match a literal $host
for pattern in '^\s*listen 443 ssl' '^\s*listen 80;' '^\s*server 127\.0\.0\.1:8080[ ;]' \
	'^\s*ssl_certificate /' '^\s*ssl_certificate_key /' 'return 301 https://\$host\$request_uri;'; do
	grep -qE "$pattern" "$recipe" ||
		bail "set-up: conf/nginx/spanner.conf has no line matching /$pattern/ for the test to rewrite"
done

render() { # render HTTPS-PORT HTTP-PORT
	sed -E \
		-e '/^\s*listen \[::\]/d' \
		-e "s#^(\s*)listen 443 ssl#\1listen 127.0.0.1:$1 ssl#" \
		-e "s#^(\s*)listen 80;#\1listen 127.0.0.1:$2;#" \
		-e "s#^(\s*)server 127\.0\.0\.1:8080([ ;])#\1server $upstream_server\2#" \
		-e "s#^(\s*)ssl_certificate /[^;]*;#\1ssl_certificate $dir/cert.pem;#" \
		-e "s#^(\s*)ssl_certificate_key /[^;]*;#\1ssl_certificate_key $dir/key.pem;#" \
		-e "s#return 301 https://\\\$host\\\$request_uri;#return 301 https://\$host:$1\$request_uri;#" \
		"$recipe" >"$dir/spanner.conf"

	# Run as root, nginx hands its workers to an unprivileged user; they need
	# to get through $dir to the temporary body files (the key stays 0600).
	local user_line=
	if [ "$(id -u)" = 0 ]; then
		user_line="user nobody $(id -gn nobody 2>/dev/null || echo nogroup);"
		chmod 711 "$dir"
	fi
	mkdir -p "$dir/tmp"
	chmod 711 "$dir/tmp"
	cat >"$dir/nginx.conf" <<-EOF
		$user_line
		worker_processes 1;
		error_log $dir/error.log notice;
		events { worker_connections 256; }
		http {
		    access_log $dir/access.log;
		    client_body_temp_path $dir/tmp/body;
		    proxy_temp_path $dir/tmp/proxy;
		    fastcgi_temp_path $dir/tmp/fastcgi;
		    uwsgi_temp_path $dir/tmp/uwsgi;
		    scgi_temp_path $dir/tmp/scgi;
		    include $dir/spanner.conf;
		}
	EOF
}

nginx_args=(-p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log")

started=0
for _ in 1 2 3; do
	https_port=$(free_port)
	http_port=$(free_port "$https_port")
	render "$https_port" "$http_port"
	if ! "$nginx_bin" "${nginx_args[@]}" -g "pid $dir/nginx.pid;" -t >"$dir/nginx-t.log" 2>&1; then
		bail "set-up: the rendered recipe does not pass nginx -t" "$(cat "$dir/nginx-t.log")"
	fi
	"$nginx_bin" "${nginx_args[@]}" -g "daemon off; pid $dir/nginx.pid;" \
		</dev/null >>"$dir/nginx.out" 2>&1 &
	nginx_pid=$!
	for _ in $(seq 100); do
		kill -0 "$nginx_pid" 2>/dev/null || break
		if (: </dev/tcp/127.0.0.1/"$https_port") 2>/dev/null &&
			(: </dev/tcp/127.0.0.1/"$http_port") 2>/dev/null; then
			started=1
			break
		fi
		sleep 0.1
	done
	[ "$started" = 1 ] && break
	stop_nginx
	grep -q 'Address already in use' "$dir/error.log" "$dir/nginx.out" 2>/dev/null || break
done
[ "$started" = 1 ] || bail "set-up: nginx did not start" "$(tail -20 "$dir/error.log" "$dir/nginx.out" 2>/dev/null)"
echo "# nginx $("$nginx_bin" -v 2>&1 | sed 's/.*: //') on https://localhost:$https_port and http://localhost:$http_port, upstream $upstream_server"

base=https://localhost:$https_port
curl_common=(-sS --max-time 30 --cacert "$dir/cert.pem"
	--resolve "localhost:$https_port:127.0.0.1" --resolve "localhost:$http_port:127.0.0.1")

curl -s -o /dev/null --max-time 5 "$upstream/login" ||
	echo "# warning: $upstream/login does not answer directly; the checks below will fail"

# Header values of one response (the last one, when curl followed redirects).
header_values() { # header_values FILE NAME
	tr -d '\r' <"$1" | awk -v want="$(echo "$2" | tr '[:upper:]' '[:lower:]')" '
		/^HTTP\// { delete seen; nvals = 0 }
		{
			i = index($0, ":")
			if (i == 0) next
			name = tolower(substr($0, 1, i - 1))
			if (name != want) next
			v = substr($0, i + 1)
			sub(/^[ \t]+/, "", v)
			vals[++nvals] = v
		}
		END { for (j = 1; j <= nvals; j++) print vals[j] }'
}

# Problems with one Set-Cookie value, or nothing when it has what it should.
cookie_problems() {
	local c=$1 problems=()
	[[ ";$c;" =~ \;[[:space:]]*[Ss]ecure[[:space:]]*\; ]] || problems+=("no Secure")
	[[ ";$c;" =~ \;[[:space:]]*[Hh]ttp[Oo]nly[[:space:]]*\; ]] || problems+=("no HttpOnly")
	[[ ";$c;" =~ \;[[:space:]]*[Ss]ame[Ss]ite=[Ll]ax[[:space:]]*\; ]] || problems+=("no SameSite=Lax")
	[[ ";$c;" =~ \;[[:space:]]*[Dd]omain= ]] && problems+=("has Domain=")
	[ ${#problems[@]} -eq 0 ] || echo "${problems[*]}"
}

# ---------------------------------------------------------------- (a) the sign-in page over HTTPS

code=$(curl "${curl_common[@]}" -D "$dir/login.h" -o "$dir/login.html" -w '%{http_code}' "$base/login")
rc=$?
check "$([ "$rc" = 0 ] && [ "$code" = 200 ] && echo 0 || echo 1)" \
	"GET $base/login through the proxy answers 200" "curl exit $rc, status ${code:-none}"

hsts=$(header_values "$dir/login.h" Strict-Transport-Security)
hsts_count=$(printf '%s' "$hsts" | grep -c . || true)
check "$([ "$hsts_count" = 1 ] && echo 0 || echo 1)" \
	"Strict-Transport-Security is sent exactly once" \
	"found $hsts_count: ${hsts//$'\n'/ | }" "(is trust_proxy on in the server under test?)"

# ---------------------------------------------------------------- (b) the pre-session cookie

mapfile -t cookies < <(header_values "$dir/login.h" Set-Cookie)
if [ ${#cookies[@]} -eq 0 ]; then
	not_ok "the sign-in page sets a cookie with Secure, HttpOnly, SameSite=Lax and no Domain" \
		"no Set-Cookie in the response"
else
	bad=()
	for c in "${cookies[@]}"; do
		why=$(cookie_problems "$c")
		[ -z "$why" ] || bad+=("${c%%=*}: $why ($c)")
	done
	check ${#bad[@]} "the sign-in page's cookie has Secure, HttpOnly, SameSite=Lax and no Domain" "${bad[@]}"
fi
pre_cookie=
[ ${#cookies[@]} -gt 0 ] && pre_cookie=${cookies[0]%%;*}

# ---------------------------------------------------------------- (c) plain HTTP redirects

out=$(curl "${curl_common[@]}" -o /dev/null -w '%{http_code} %{redirect_url}' \
	"http://localhost:$http_port/login?x=1")
rc=$?
check "$([ "$rc" = 0 ] && [ "$out" = "301 $base/login?x=1" ] && echo 0 || echo 1)" \
	"plain HTTP answers 301 to the same address over HTTPS" \
	"curl exit $rc, got '$out', wanted '301 $base/login?x=1'"

code=$(curl "${curl_common[@]}" -L -o /dev/null -w '%{http_code} %{url_effective}' \
	"http://localhost:$http_port/login")
check "$([ "$code" = "200 $base/login" ] && echo 0 || echo 1)" \
	"following the redirect ends at the HTTPS sign-in page" "got '$code'"

# ---------------------------------------------------------------- (d) uploads over the limits

# Two limits: nginx's client_max_body_size (equal to Kore's http_body_max in
# kore.conf, 11 MB) and Spanner's own http_body_max (10304K) below it. A body
# over nginx's limit must get nginx's 413 page; a body between the two must
# pass nginx and Kore and get Spanner's 413 page (a 502, a reset or a bare 413
# here means Kore's limit is below nginx's). Each is sent whole, as a browser
# does (no Expect: 100-continue), over HTTP/1.1 and HTTP/2, to the upload
# address; Spanner checks the size before the session.
limit=$(sed -nE 's/^\s*client_max_body_size\s+([0-9]+)([kKmM]?);.*/\1 \2/p' "$recipe" | head -1)
read -r limit_n limit_unit <<<"$limit"
case "${limit_unit:-}" in
k | K) limit_bytes=$((limit_n * 1024)) ;;
m | M) limit_bytes=$((limit_n * 1024 * 1024)) ;;
*) limit_bytes=${limit_n:-0} ;;
esac
if [ "$limit_bytes" -le $((10304 * 1024 + 512 * 1024)) ]; then
	not_ok "the recipe's client_max_body_size leaves room above Spanner's 10304K" \
		"client_max_body_size is ${limit_bytes:-unset} bytes"
else
	echo "# client_max_body_size is $limit_bytes bytes"
	# Over nginx's limit; and between the limits (the multipart framing adds
	# a few hundred bytes).
	head -c $((limit_bytes + 256 * 1024)) /dev/zero | tr '\0' 'a' >"$dir/over-proxy.csv"
	head -c $((limit_bytes - 256 * 1024)) /dev/zero | tr '\0' 'a' >"$dir/over-app.csv"
	for file in over-proxy over-app; do
		size=$(stat -c %s "$dir/$file.csv")
		case $file in
		over-proxy) what="a $size-byte upload, over the proxy's limit, gets nginx's 413 page" ;;
		over-app) what="a $size-byte upload, under the proxy's limit, gets Spanner's 413 page" ;;
		esac
		for proto in --http1.1 --http2; do
			code=$(curl "${curl_common[@]}" "$proto" -H 'Expect:' -D "$dir/413.h" -o "$dir/413.html" -w '%{http_code}' \
				-F "csrf_token=x" -F "file=@$dir/$file.csv;type=text/csv" "$base/imports/companies")
			rc=$?
			diag=("curl exit $rc (52/55/56: the connection was closed or reset), status ${code:-none}")
			good=1
			if [ "$rc" = 0 ] && [ "$code" = 413 ]; then
				# Spanner's responses carry its Content-Security-Policy; nginx's do not.
				csp=$(header_values "$dir/413.h" Content-Security-Policy | grep -c . || true)
				if ! grep -qi 'too large' "$dir/413.html"; then
					diag+=("the 413 page does not say 'too large': '$(head -c 300 "$dir/413.html")'")
				elif [ "$file" = over-proxy ] && [ "$csp" != 0 ]; then
					diag+=("the 413 came from Spanner, not from nginx")
				elif [ "$file" = over-app ] && [ "$csp" = 0 ]; then
					diag+=("the 413 came from nginx, not from Spanner")
				else
					good=0
				fi
			fi
			[ "$file" = over-app ] && [ "$good" = 1 ] &&
				diag+=("(when Spanner answers other requests, a 502 or a bare 413 here means Kore's http_body_max is below client_max_body_size)")
			check $good "$what (${proto#--})" "${diag[@]}"
		done
	done
fi

# ---------------------------------------------------------------- (e) a big request head keeps its cookie

# Kore keeps the first 24 lines of a request head and Chromium sends Cookie
# last. These are the header lines of a Chromium htmx request with DevTools'
# cache disabled: 20 before the Cookie. With the request line and nginx's
# Host, X-Forwarded-Proto and X-Forwarded-For, the Cookie would be line 25
# without the headers the recipe does not pass on.
if [ -n "$pre_cookie" ]; then
	browser_headers=(
		-H 'Pragma: no-cache'
		-H 'Cache-Control: no-cache'
		-H 'sec-ch-ua: "Chromium";v="120", "Not?A_Brand";v="8"'
		-H 'HX-Current-URL: https://localhost/login'
		-H 'HX-Target: main'
		-H 'sec-ch-ua-mobile: ?0'
		-H 'HX-Trigger: login-link'
		-H 'HX-Request: true'
		-H 'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36'
		-H 'sec-ch-ua-platform: "Linux"'
		-H 'Accept: */*'
		-H 'Sec-Fetch-Site: same-origin'
		-H 'Sec-Fetch-Mode: cors'
		-H 'Sec-Fetch-Dest: empty'
		-H "Referer: $base/login"
		-H 'Accept-Encoding: gzip, deflate, br'
		-H 'Accept-Language: en-GB,en;q=0.9'
		-H 'Priority: u=1, i'
		-H 'DNT: 1'
		-H 'Sec-GPC: 1'
		-H "Cookie: $pre_cookie"
	)
	code=$(curl "${curl_common[@]}" --http1.1 -D "$dir/big-head.h" -o /dev/null -w '%{http_code}' \
		"${browser_headers[@]}" "$base/login")
	reissued=$(header_values "$dir/big-head.h" Set-Cookie | grep -c "^${pre_cookie%%=*}=" || true)
	check "$([ "$code" = 200 ] && [ "$reissued" = 0 ] && echo 0 || echo 1)" \
		"a Chromium-sized request head still reaches Spanner with its Cookie" \
		"status $code; the server set ${pre_cookie%%=*} again $reissued time(s), so it did not get the cookie"
else
	not_ok "a Chromium-sized request head still reaches Spanner with its Cookie" \
		"no cookie from the sign-in page to send back"
fi

# ---------------------------------------------------------------- (f) compression

code=$(curl "${curl_common[@]}" -H 'Accept-Encoding: gzip' -D "$dir/css.h" -o /dev/null \
	-w '%{http_code}' "$base/assets/css/spanner.css")
enc=$(header_values "$dir/css.h" Content-Encoding)
check "$([ "$code" = 200 ] && [ "$enc" = gzip ] && echo 0 || echo 1)" \
	"the stylesheet is sent gzip-compressed" "status $code, Content-Encoding '${enc}'"

# ---------------------------------------------------------------- (g) optional: the session cookie

if [ -n "${SPANNER_PROXY_TEST_EMAIL:-}" ] && [ -n "${SPANNER_PROXY_TEST_PASSWORD:-}" ]; then
	jar=$dir/jar
	curl "${curl_common[@]}" -c "$jar" -o "$dir/login2.html" "$base/login"
	token=$(sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' "$dir/login2.html" | head -1)
	code=$(curl "${curl_common[@]}" -b "$jar" -D "$dir/signin.h" -o /dev/null -w '%{http_code}' \
		--data-urlencode "csrf_token=$token" --data-urlencode "next=/" \
		--data-urlencode "email=$SPANNER_PROXY_TEST_EMAIL" \
		--data-urlencode "password=$SPANNER_PROXY_TEST_PASSWORD" "$base/login")
	mapfile -t cookies < <(header_values "$dir/signin.h" Set-Cookie)
	bad=()
	session=0
	for c in "${cookies[@]}"; do
		why=$(cookie_problems "$c")
		[ -z "$why" ] || bad+=("${c%%=*}: $why ($c)")
		[[ ${c%%;*} =~ =.+ ]] && [ "${c%%=*}" != "${pre_cookie%%=*}" ] && session=1
	done
	[ "$code" = 303 ] || bad+=("status $code, wanted 303 (signed in)")
	[ "$session" = 1 ] || bad+=("no session cookie set")
	check ${#bad[@]} "signing in sets a session cookie with Secure, HttpOnly, SameSite=Lax and no Domain" "${bad[@]}"
else
	echo "# session cookie after sign-in not checked: set SPANNER_PROXY_TEST_EMAIL and SPANNER_PROXY_TEST_PASSWORD"
fi

if [ "$failed" -gt 0 ]; then
	echo "# nginx error log (last warnings and errors):"
	grep -E '\[(warn|error|crit|alert|emerg)\]' "$dir/error.log" 2>/dev/null | tail -10 | sed 's/^/#   /'
fi
summary
[ "$failed" -eq 0 ]
