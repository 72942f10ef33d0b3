#!/bin/sh
# bench/run.sh - `make bench`: hearth side by side with nginx, Node.js and the
# ceiling server, on one machine, in one run; then hearth's records API and
# storage layer against Node.js + fastify + better-sqlite3 on the same data,
# and a PocketBase-shaped scenario. See bench/README.md.
#
# Method. Each server in turn is started pinned to one core (taskset -c 1),
# health-checked, checked for correct answers, benchmarked on all its
# workloads, then stopped, so servers never compete. wrk runs pinned to the
# other core (taskset -c 0) with one thread and 64 connections, for the same
# duration everywhere, BENCH_RUNS times per cell after a short warm-up; a
# cell reports the medians. Per cell:
#   req/s    wrk's Requests/sec
#   µs/req   the server's CPU time (utime + stime of /proc/PID/stat, which
#            sums all its threads; master + worker for nginx) over the wrk
#            run, divided by the requests wrk completed. wrk on its one core
#            is often the bottleneck, so this is the fair comparison.
#   RSS      peak resident memory (VmHWM) during the workload: the peak is
#            reset through /proc/PID/clear_refs before each workload, so a
#            cell does not inherit the previous workload's peak.
# The idle workload opens BENCH_IDLE_CONNS keep-alive connections (one
# request each, then idle) with bench/tools/idleconns.c and reports the
# server's RSS while they are held, and the CPU time per connection.
#
# Workloads come in groups, run group by group, and each server is started
# afresh for each group it takes part in. In the engine and pb groups the
# servers take turns, one after the other; in the te, records and auth groups
# hearth and Node run side by side (both started, one loaded at a time) and
# their timed runs alternate, so load from elsewhere on a shared machine
# falls on both alike:
#   engine   plaintext pipelined json static4k static1m idle: hearth is
#            build/hearth-bench, node is peers/node_http.js
#   te       te_db te_queries te_updates (TechEmpower db, queries=20,
#            updates=20): hearth is build/hearth-bench --te-db (bench/te.c),
#            node is peers/node_records.js; each on its own copy of a
#            10,000-row world table
#   records  records_view records_list records_list_skip records_create:
#            hearth is `build/hearth serve`, node is peers/node_records.js,
#            each on its own copy of one seeded data.db (BENCH_RECORDS posts)
#   auth     auth_list auth_login health_during_login: a list behind the
#            rule owner = @request.auth.id with a token, password logins
#            (argon2id), and /api/health's latency during a login storm;
#            hearth is `build/hearth serve`, node is peers/node_auth.js,
#            each on its own copy of the data.db, which also holds the
#            auth collection "members" (BENCH_AUTH_USERS) and "notes"
#            (BENCH_AUTH_NOTES, owned by random members)
#   pb       pb_list pb_create: PocketBase's published scenario shape
#            (list 20 with skipTotal at 1,000 connections, creates at 500),
#            hearth only, with --workers 2 and wrk -t2 on both cores
# The data set is made once per run: the posts collection is created
# through hearth's collections API, then `hearth-bench seed` (bench/seed.c)
# inserts the records in one transaction; Node gets a copy of the file.
#
# Environment (all optional):
#   BENCH_SERVERS     hearth nginx node ceiling    (subset, any order)
#   BENCH_WORKLOADS   plaintext pipelined json static4k static1m idle
#                     records_view records_list records_list_skip
#                     records_create te_db te_queries te_updates auth_list
#                     auth_login health_during_login pb_list pb_create
#                     (default: all, in this order)
#   BENCH_RECORDS     posts in the records data set (100000)
#   BENCH_AUTH_USERS / BENCH_AUTH_NOTES  members and notes of the auth group
#                     (1000 / 100000)
#   BENCH_HEALTH_PAUSE  ms between health checks in health_during_login (10)
#   BENCH_LOGIN_RAMP  seconds of login storm before the measured window (3)
#   BENCH_PB_LIST_CONNECTIONS / BENCH_PB_CREATE_CONNECTIONS  (1000 / 500)
#   BENCH_DURATION    seconds per wrk run (10)       BENCH_RUNS   runs per cell (3)
#   BENCH_WARMUP      seconds of unmeasured wrk before each cell (1; 0 = none)
#   BENCH_CONNECTIONS wrk connections (64)         BENCH_PIPELINE_DEPTH (16)
#   BENCH_IDLE_CONNS  idle connections (10000)     BENCH_IDLE_HOLD  seconds held (3)
#   BENCH_SERVER_CPU / BENCH_CLIENT_CPU  cores to pin to (1 / 0)
#   BENCH_PORT_BASE   first of five loopback ports (18081; the fifth is the
#                     seeding server's)
#   BENCH_LIMIT_SRC, BENCH_PIPELINE_LUA  the ceiling server and wrk's
#                     pipelining script (default /work/shared/bench/...)
#   BENCH_HEARTH_BIN  a prebuilt hearth-bench to measure instead of running
#                     `make build/hearth-bench` (to compare two builds)
#   BENCH_HEARTH_SERVE_BIN  the same for the hearth program of the records
#                     and pb groups (default: build/hearth, made by make)
#
# Output: the report on stdout and in build/bench/latest.md, every run's raw
# numbers in build/bench/runs.tsv, wrk outputs and server logs in
# build/bench/logs/. Progress goes to stderr. Nothing outside build/bench/ and
# a temp dir (removed on exit) is written. Exit status: 0, or 1 when hearth
# was selected and did not complete every workload (a missing peer is only
# noted), or when the setup is unusable (no wrk, bad settings).
#
# Deliberately not here: HTTPS, HTTP/2, multi-core scaling (beyond the pb
# group's two workers), latency percentiles under load (wrk on one
# shared-nothing core measures throughput and CPU cost honestly; its latency
# numbers at saturation mostly measure queueing). The one latency reported
# is that of paced health checks beside a login storm (health_during_login).

set -u
LC_ALL=C
export LC_ALL

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out_dir=$root/build/bench
logs=$out_dir/logs

DURATION=${BENCH_DURATION:-10}
RUNS=${BENCH_RUNS:-3}
WARMUP=${BENCH_WARMUP:-1}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
PIPELINE_DEPTH=${BENCH_PIPELINE_DEPTH:-16}
IDLE_CONNS=${BENCH_IDLE_CONNS:-10000}
IDLE_HOLD=${BENCH_IDLE_HOLD:-3}
IDLE_TIMEOUT=60
SERVERS=${BENCH_SERVERS:-hearth nginx node ceiling}
ENGINE_WORKLOADS="plaintext pipelined json static4k static1m idle"
DB_WORKLOADS="records_view records_list records_list_skip records_create te_db te_queries te_updates"
AUTH_WORKLOADS="auth_list auth_login health_during_login"
PB_WORKLOADS="pb_list pb_create"
WORKLOADS=${BENCH_WORKLOADS:-$ENGINE_WORKLOADS $DB_WORKLOADS $AUTH_WORKLOADS $PB_WORKLOADS}
RECORDS=${BENCH_RECORDS:-100000}
AUTH_USERS=${BENCH_AUTH_USERS:-1000}
AUTH_NOTES=${BENCH_AUTH_NOTES:-100000}
HEALTH_PAUSE=${BENCH_HEALTH_PAUSE:-10}
LOGIN_RAMP=${BENCH_LOGIN_RAMP:-3}
PB_LIST_CONNECTIONS=${BENCH_PB_LIST_CONNECTIONS:-1000}
PB_CREATE_CONNECTIONS=${BENCH_PB_CREATE_CONNECTIONS:-500}
SERVER_CPU=${BENCH_SERVER_CPU:-1}
CLIENT_CPU=${BENCH_CLIENT_CPU:-0}
PORT_BASE=${BENCH_PORT_BASE:-18081}
LIMIT_SRC=${BENCH_LIMIT_SRC:-/work/shared/bench/limit.c}
PIPELINE_LUA=${BENCH_PIPELINE_LUA:-/work/shared/bench/pipeline.lua}
HEARTH_BIN=${BENCH_HEARTH_BIN:-}
HEARTH_SERVE_BIN=${BENCH_HEARTH_SERVE_BIN:-}

ALL_SERVERS="hearth nginx node ceiling"
ALL_WORKLOADS="$ENGINE_WORKLOADS $DB_WORKLOADS $AUTH_WORKLOADS $PB_WORKLOADS"

# What the records workloads ask for: 20 posts that pass a filter, newest
# first. The filter is status='published' && views>500, URL-encoded.
LIST_PATH="/api/collections/posts/records?perPage=20&sort=-created&filter=status%3D%27published%27%20%26%26%20views%3E500"
PB_LIST_PATH="/api/collections/posts/records?perPage=20&skipTotal=1"
# The auth group: 20 of the logged-in member's notes, and the login.
NOTES_LIST_PATH="/api/collections/notes/records?perPage=20&skipTotal=1"
LOGIN_PATH="/api/collections/members/auth-with-password"
RECORDS_PATH="/api/collections/posts/records"
# PocketBase's published figures for this scenario shape on a 2-vCPU VM
# (github.com/pocketbase/benchmarks, results/hetzner_cax11*.md: creating
# posts at concurrency 500; listing 20 of 100k posts with skipTotal at
# concurrency 1,000), and the issue's target multiple.
PB_REF_CREATE=2000
PB_REF_LIST=1100
PB_TARGET_X=20

say() { printf '%s\n' "$*" >&2; }
die() { say "bench: $*"; exit 1; }

# ---- Arguments and tools ----

for v in DURATION RUNS WARMUP CONNECTIONS PIPELINE_DEPTH IDLE_CONNS IDLE_HOLD SERVER_CPU CLIENT_CPU PORT_BASE \
	RECORDS PB_LIST_CONNECTIONS PB_CREATE_CONNECTIONS AUTH_USERS AUTH_NOTES HEALTH_PAUSE LOGIN_RAMP; do
	eval "x=\${$v}"
	# shellcheck disable=SC2154 # x is set by the eval
	case $x in
	'' | *[!0-9]*) die "BENCH_$v must be a whole number, got '$x'" ;;
	esac
done
[ "$DURATION" -ge 1 ] || die "BENCH_DURATION must be at least 1"
[ "$RUNS" -ge 1 ] || die "BENCH_RUNS must be at least 1"
[ "$CONNECTIONS" -ge 1 ] || die "BENCH_CONNECTIONS must be at least 1"
[ "$RECORDS" -ge 20 ] || die "BENCH_RECORDS must be at least 20"
[ "$AUTH_USERS" -ge 1 ] || die "BENCH_AUTH_USERS must be at least 1"
[ "$AUTH_NOTES" -ge 1 ] || die "BENCH_AUTH_NOTES must be at least 1"
if [ "$PB_LIST_CONNECTIONS" -lt 2 ] || [ "$PB_CREATE_CONNECTIONS" -lt 2 ]; then
	die "BENCH_PB_*_CONNECTIONS must be at least 2 (wrk runs two threads)"
fi
for s in $SERVERS; do
	case " $ALL_SERVERS " in *" $s "*) ;; *) die "unknown server '$s' (known: $ALL_SERVERS)" ;; esac
done
for w in $WORKLOADS; do
	case " $ALL_WORKLOADS " in *" $w "*) ;; *) die "unknown workload '$w' (known: $ALL_WORKLOADS)" ;; esac
done

command -v wrk >/dev/null 2>&1 ||
	die "wrk is not installed (Debian: apt-get install wrk)"
for t in curl taskset timeout awk cmp cc; do
	command -v "$t" >/dev/null 2>&1 || die "'$t' is not installed"
done
if ! taskset -c "$SERVER_CPU" true 2>/dev/null || ! taskset -c "$CLIENT_CPU" true 2>/dev/null; then
	die "cannot pin to cores $SERVER_CPU and $CLIENT_CPU (nproc: $(nproc));" \
		"set BENCH_SERVER_CPU and BENCH_CLIENT_CPU"
fi
[ "$SERVER_CPU" != "$CLIENT_CPU" ] ||
	say "bench: warning: server and client share core $SERVER_CPU"
CLK_TCK=$(getconf CLK_TCK)

# wrk, the servers and idleconns need many descriptors; keep the soft limit
# at 65536 or the hard limit, whichever is lower. (ulimit -n and -H are not
# POSIX, but dash, bash, busybox sh and ksh all have them.)
# shellcheck disable=SC3045
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -ge 65536 ]; then
	# shellcheck disable=SC3045
	ulimit -n 65536
else
	# shellcheck disable=SC3045
	ulimit -n "$hard"
fi
# shellcheck disable=SC3045
NOFILE=$(ulimit -n)

# ---- Scratch space and cleanup ----

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hearth-bench.XXXXXX") || die "mktemp failed"
chmod 755 "$tmp" # nginx workers may run as nobody
started=""       # pids of every process we started in the background
cleaned=0

alive() {
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st##*) }
	case $st in Z* | X*) return 1 ;; esac
	return 0
}

# Sends TERM to the given pids, waits up to 15 s (hearth's graceful stop
# allows 10), then KILLs what is left and reaps.
stop_pids() {
	for p in "$@"; do kill -TERM "$p" 2>/dev/null; done
	i=0
	while [ $i -lt 150 ]; do
		any=0
		for p in "$@"; do alive "$p" && any=1; done
		[ $any = 0 ] && break
		sleep 0.1
		i=$((i + 1))
	done
	for p in "$@"; do
		if alive "$p"; then
			say "bench: pid $p did not stop in 15 s; killing it"
			kill -KILL "$p" 2>/dev/null
		fi
	done
	for p in "$@"; do wait "$p" 2>/dev/null; done
	return 0
}

cleanup() {
	[ $cleaned = 1 ] && return
	cleaned=1
	live=""
	for p in $started; do alive "$p" && live="$live $p"; done
	# shellcheck disable=SC2086 # word splitting of the pid list is intended
	[ -n "$live" ] && stop_pids $live
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

mkdir -p "$out_dir" || die "cannot create $out_dir"
rm -rf "$logs"
mkdir -p "$logs"
results=$tmp/results # server <TAB> workload <TAB> key <TAB> value
: >"$results"
runs_tsv=$out_dir/runs.tsv
printf 'server\tworkload\trun\trequests\treq_per_s\tcpu_us_per_req\terrors\tbytes_per_resp\tforeign_pct\thealth_p50_ms\thealth_p99_ms\n' \
	>"$runs_tsv"

put() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$results"; }

# ---- Fixtures: static files, tools ----

mkdir -p "$tmp/public" "$tmp/hearth_data"
head -c 4096 /dev/urandom >"$tmp/public/4k.bin"
head -c 1048576 /dev/urandom >"$tmp/public/1m.bin"
chmod 755 "$tmp/public"
chmod 644 "$tmp/public/4k.bin" "$tmp/public/1m.bin"

CFLAGS_STRICT="-std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
-Wmissing-prototypes -Wpointer-arith -Wcast-qual"

idle_ok=1
case " $WORKLOADS " in
*" idle "*)
	# shellcheck disable=SC2086
	if ! cc $CFLAGS_STRICT -o "$tmp/idleconns" "$here/tools/idleconns.c" \
		>"$logs/idleconns-build.log" 2>&1; then
		say "bench: bench/tools/idleconns.c does not build (see $logs/idleconns-build.log);" \
			"idle workload skipped"
		idle_ok=0
	elif [ "$NOFILE" -lt $((IDLE_CONNS + 256)) ]; then
		say "bench: ulimit -n is $NOFILE, the idle workload needs $((IDLE_CONNS + 256));" \
			"idle workload skipped (lower BENCH_IDLE_CONNS or raise the hard limit)"
		idle_ok=0
	fi
	;;
esac

pipeline_ok=1
if [ ! -r "$PIPELINE_LUA" ]; then
	case " $WORKLOADS " in *" pipelined "*)
		say "bench: $PIPELINE_LUA not found (BENCH_PIPELINE_LUA); pipelined workload skipped" ;;
	esac
	pipeline_ok=0
fi

# ---- Server definitions ----

port_of() {
	case $1 in
	hearth) echo $((PORT_BASE + 0)) ;;
	nginx) echo $((PORT_BASE + 1)) ;;
	node) echo $((PORT_BASE + 2)) ;;
	ceiling) echo $((PORT_BASE + 3)) ;;
	seed) echo $((PORT_BASE + 4)) ;;
	esac
}

# The group of a workload (see the header): which program plays each server.
group_of() {
	case $1 in
	records_*) echo records ;;
	te_*) echo te ;;
	auth_* | health_during_login) echo auth ;;
	pb_*) echo pb ;;
	*) echo engine ;;
	esac
}

# Which workloads a server can run (the ceiling answers anything with a
# canned body: no files, and the idle test is not its purpose). nginx has
# no database; the pb group compares hearth with PocketBase's published
# figures, so it runs hearth alone.
supports() {
	case $1:$2 in
	ceiling:plaintext | ceiling:pipelined | ceiling:json) return 0 ;;
	ceiling:*) return 1 ;;
	nginx:records_* | nginx:te_* | nginx:pb_* | nginx:auth_* | nginx:health_during_login) return 1 ;;
	node:pb_*) return 1 ;;
	*) return 0 ;;
	esac
}

# Is any selected workload in group $1?
wants_group() {
	for w in $WORKLOADS; do
		[ "$(group_of "$w")" = "$1" ] && return 0
	done
	return 1
}

NODE=$(command -v node 2>/dev/null || command -v nodejs 2>/dev/null || true)
NGINX=$(command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true)

write_nginx_conf() {
	port=$1
	d=$tmp/nginx
	mkdir -p "$d/tmp"
	wc=16384
	[ "$NOFILE" -lt $((wc + 100)) ] && wc=$((NOFILE - 100))
	cat >"$d/nginx.conf" <<EOF
# generated by bench/run.sh
worker_processes 1;
worker_rlimit_nofile $NOFILE;
pid $d/nginx.pid;
error_log $d/error.log warn;
events {
	worker_connections $wc;
}
http {
	access_log off;
	server_tokens off;
	sendfile on;
	tcp_nopush on;
	tcp_nodelay on;
	keepalive_requests 100000000;
	keepalive_timeout 75s;
	client_body_temp_path $d/tmp/body;
	proxy_temp_path $d/tmp/proxy;
	fastcgi_temp_path $d/tmp/fastcgi;
	uwsgi_temp_path $d/tmp/uwsgi;
	scgi_temp_path $d/tmp/scgi;
	types {
		application/octet-stream bin;
		application/json json;
		text/plain txt;
	}
	default_type application/octet-stream;
	server {
		listen 127.0.0.1:$port backlog=4096;
		root $tmp/public;
		location = /plaintext {
			default_type text/plain;
			return 200 "Hello, World!";
		}
		location = /json {
			default_type application/json;
			return 200 '{"message":"Hello, World!"}';
		}
	}
}
EOF
}

# build_hearth TARGET: makes build/hearth-bench or build/hearth, once per
# run (the seeding needs both even when hearth itself is not measured).
# Returns 1 when it does not build: never measure a stale binary left by
# an earlier build.
build_hearth() {
	bh_var=built_$(printf '%s' "$1" | tr -c '[:lower:]' '_')
	eval "bh=\${$bh_var:-}"
	if [ -z "$bh" ]; then
		if make -C "$root" "$1" >>"$logs/hearth-build.log" 2>&1; then bh=ok; else bh=failed; fi
		eval "$bh_var=$bh"
	fi
	[ "$bh" = ok ]
}

# Makes sure bench/peers/node_modules holds the packages of
# peers/package-lock.json (fastify, better-sqlite3, argon2), with `npm ci` when
# they are missing. Returns 1 (and sets why) when they cannot be loaded.
npm_state=""
npm_peers() {
	[ -n "$npm_state" ] && { [ "$npm_state" = ok ] || why=$npm_state; [ "$npm_state" = ok ]; return; }
	npm_state=ok
	if ! (cd "$here/peers" && "$NODE" -e "require('fastify'); require('better-sqlite3'); require('argon2')") \
		>/dev/null 2>&1; then
		if ! command -v npm >/dev/null 2>&1; then
			npm_state="bench/peers needs npm packages and npm is not installed (Debian: apt-get install npm)"
		else
			say "bench: installing bench/peers' npm packages (npm ci)"
			(cd "$here/peers" && npm ci --no-audit --no-fund --loglevel=error) \
				>"$logs/npm-ci.log" 2>&1
			if ! (cd "$here/peers" && "$NODE" -e "require('fastify'); require('better-sqlite3'); require('argon2')") \
				>>"$logs/npm-ci.log" 2>&1; then
				npm_state="npm ci in bench/peers failed (see build/bench/logs/npm-ci.log)"
			fi
		fi
	fi
	[ "$npm_state" = ok ] || why=$npm_state
	[ "$npm_state" = ok ]
}

# Prepares server $1 for workload group $2 (build, config, data). On
# failure sets why and returns 1, and the server's cells of that group are
# skipped.
prepare() {
	case $1:$2 in
	hearth:engine | hearth:te)
		if [ -n "$HEARTH_BIN" ]; then
			if [ ! -x "$HEARTH_BIN" ]; then
				why="BENCH_HEARTH_BIN=$HEARTH_BIN is not an executable"
				return 1
			fi
		elif build_hearth build/hearth-bench; then
			HEARTH_BIN=$root/build/hearth-bench
		else
			why="build/hearth-bench does not build (see build/bench/logs/hearth-build.log)"
			return 1
		fi
		;;
	hearth:records | hearth:auth | hearth:pb)
		if [ -n "$HEARTH_SERVE_BIN" ]; then
			if [ ! -x "$HEARTH_SERVE_BIN" ]; then
				why="BENCH_HEARTH_SERVE_BIN=$HEARTH_SERVE_BIN is not an executable"
				return 1
			fi
		elif build_hearth build/hearth; then
			HEARTH_SERVE_BIN=$root/build/hearth
		else
			why="build/hearth does not build (see build/bench/logs/hearth-build.log)"
			return 1
		fi
		;;
	node:te | node:records | node:auth)
		if [ -z "$NODE" ]; then
			why="Node.js is not installed (Debian: apt-get install nodejs)"
			return 1
		fi
		npm_peers || return 1
		;;
	*:engine) prepare_engine "$1" || return 1 ;;
	esac
	case $2 in
	te | records | auth | pb)
		if [ "$seeded" != ok ]; then
			why="no data set: $seeded"
			return 1
		fi
		# A fresh copy of the data for every start of every server:
		# earlier groups and servers wrote to theirs (creates, updates).
		rm -rf "${tmp:?}/run/$1"
		mkdir -p "$tmp/run/$1/hearth_data"
		if ! cp "$tmp/seed/hearth_data/data.db" "$tmp/run/$1/hearth_data/data.db" ||
			! cp "$tmp/seed/world.db" "$tmp/run/$1/world.db"; then
			why="cannot copy the data set into $tmp/run/$1"
			return 1
		fi
		;;
	esac
	return 0
}

# The engine group's preparation, as before the database groups existed.
prepare_engine() {
	case $1 in
	hearth) ;;
	nginx)
		if [ -z "$NGINX" ]; then
			why="not installed (Debian: apt-get install nginx-light)"
			return 1
		fi
		write_nginx_conf "$(port_of nginx)"
		if ! timeout 10 "$NGINX" -t -p "$tmp/nginx/" -c "$tmp/nginx/nginx.conf" \
			>"$logs/nginx-config.log" 2>&1; then
			why="generated config rejected (see build/bench/logs/nginx-config.log)"
			return 1
		fi
		;;
	node)
		if [ -z "$NODE" ]; then
			why="Node.js is not installed (Debian: apt-get install nodejs)"
			return 1
		fi
		;;
	ceiling)
		if [ ! -r "$LIMIT_SRC" ]; then
			why="$LIMIT_SRC not found (set BENCH_LIMIT_SRC)"
			return 1
		fi
		if ! cc -O2 -Wall -Wextra -o "$tmp/limit" "$LIMIT_SRC" >"$logs/ceiling-build.log" 2>&1; then
			why="$LIMIT_SRC does not build (see build/bench/logs/ceiling-build.log)"
			return 1
		fi
		;;
	esac
	return 0
}

# Starts server $1 for group $2 on its port, pinned to SERVER_CPU (the pb
# group: to both cores); sets spid.
start() {
	port=$(port_of "$1")
	log=$logs/$1-$2.log
	case $1:$2 in
	hearth:engine)
		taskset -c "$SERVER_CPU" "$HEARTH_BIN" --http "127.0.0.1:$port" \
			--workers 1 --public "$tmp/public" --dir "$tmp/hearth_data" --quiet \
			>"$log" 2>&1 &
		;;
	hearth:te)
		taskset -c "$SERVER_CPU" "$HEARTH_BIN" --http "127.0.0.1:$port" \
			--workers 1 --te-db "$tmp/run/hearth/world.db" --dir "$tmp/hearth_data" --quiet \
			>"$log" 2>&1 &
		;;
	hearth:records | hearth:auth)
		taskset -c "$SERVER_CPU" "$HEARTH_SERVE_BIN" serve --http "127.0.0.1:$port" \
			--workers 1 --dir "$tmp/run/hearth/hearth_data" --quiet >"$log" 2>&1 &
		;;
	hearth:pb)
		taskset -c "$SERVER_CPU,$CLIENT_CPU" "$HEARTH_SERVE_BIN" serve --http "127.0.0.1:$port" \
			--workers 2 --dir "$tmp/run/hearth/hearth_data" --quiet >"$log" 2>&1 &
		;;
	node:te | node:records)
		taskset -c "$SERVER_CPU" "$NODE" "$here/peers/node_records.js" "$port" \
			"$tmp/run/node/hearth_data/data.db" "$tmp/run/node/world.db" >"$log" 2>&1 &
		;;
	node:auth)
		taskset -c "$SERVER_CPU" "$NODE" "$here/peers/node_auth.js" "$port" \
			"$tmp/run/node/hearth_data/data.db" >"$log" 2>&1 &
		;;
	nginx:*)
		taskset -c "$SERVER_CPU" "$NGINX" -p "$tmp/nginx/" -c "$tmp/nginx/nginx.conf" \
			-g 'daemon off;' >"$log" 2>&1 &
		;;
	node:*)
		taskset -c "$SERVER_CPU" "$NODE" "$here/peers/node_http.js" "$port" "$tmp/public" \
			>"$log" 2>&1 &
		;;
	ceiling:*)
		taskset -c "$SERVER_CPU" "$tmp/limit" "$port" >"$log" 2>&1 &
		;;
	esac
	spid=$!
	started="$started $spid"
}

# The server's processes: the one we started and its children (nginx's
# worker). Printed as a space-separated list.
pids_of() {
	kids=$(pgrep -P "$1" 2>/dev/null | tr '\n' ' ')
	echo "$1 $kids"
}

# The path that tells whether the server of group $1 is up.
ready_path() {
	case $1 in
	engine) echo /plaintext ;;
	te) echo /db ;;
	*) echo /api/health ;;
	esac
}

# Waits until port $2 answers HTTP on path $3 (default /plaintext), while
# pid $1 lives; at most 10 s.
wait_ready() {
	i=0
	while [ $i -lt 100 ]; do
		alive "$1" || return 1
		curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$2${3:-/plaintext}" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

port_in_use() {
	curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1/"
	[ $? -ne 7 ] # 7: could not connect
}

# ---- Measuring ----

# proc_sum cpu|hwm|rss PID...: CPU ticks (utime + stime), VmHWM or VmRSS in
# KiB, summed over the pids.
proc_sum() {
	kind=$1
	shift
	total=0
	for p in "$@"; do
		case $kind in
		cpu) v=$(awk '{ sub(/^.*\) /, ""); printf "%.0f", $12 + $13 }' "/proc/$p/stat" 2>/dev/null) ;;
		hwm) v=$(awk '/^VmHWM:/ { print $2 }' "/proc/$p/status" 2>/dev/null) ;;
		rss) v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null) ;;
		esac
		total=$((total + ${v:-0}))
	done
	echo "$total"
}

# Resets VmHWM to the current RSS (Linux >= 4.0); returns 1 if it could not.
reset_peak() {
	rp=0
	for p in "$@"; do
		{ echo 5 >"/proc/$p/clear_refs"; } 2>/dev/null || rp=1
	done
	return $rp
}

median() {
	printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 }
		END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# core_ticks CORE: "busy total" ticks of one core from /proc/stat. busy is
# user + nice + system + irq + steal; softirq is left out, because the
# loopback traffic of the server under test lands there. total adds idle,
# iowait and softirq: the core's elapsed ticks.
core_ticks() {
	awk -v c="cpu$1" '$1 == c { b = $2 + $3 + $4 + $7 + $9; printf "%.0f %.0f", b, b + $5 + $6 + $8 }' \
		/proc/stat
}

# foreign_pct BEFORE AFTER SERVER_TICKS: the share (%) of the server core's
# time that went to anything but the server (other processes, VM steal).
foreign_pct() {
	awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN {
		split(a, x, " "); split(b, y, " ")
		busy = y[1] - x[1] - t; tot = y[2] - x[2]
		if (busy < 0) busy = 0
		printf "%.0f", (tot > 0 ? 100 * busy / tot : 0) }'
}

# wrk_run OUT SECONDS WORKLOAD PORT: one wrk run, pinned, bounded in time.
# The pb workloads run wrk with two threads on both cores, beside the
# server, as PocketBase's published runs shared their VM with the client.
wrk_run() {
	o=$1 secs=$2 w=$3 port=$4
	base=http://127.0.0.1:$port
	case $w in
	pb_list) set -- taskset -c "$SERVER_CPU,$CLIENT_CPU" wrk -t2 -c"$PB_LIST_CONNECTIONS" ;;
	pb_create) set -- taskset -c "$SERVER_CPU,$CLIENT_CPU" wrk -t2 -c"$PB_CREATE_CONNECTIONS" ;;
	*) set -- taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNECTIONS" ;;
	esac
	set -- "$@" -d"${secs}s" --timeout 10s
	case $w in
	plaintext) set -- "$@" "$base/plaintext" ;;
	pipelined) set -- "$@" -s "$PIPELINE_LUA" "$base" -- /plaintext "$PIPELINE_DEPTH" ;;
	json) set -- "$@" "$base/json" ;;
	static4k) set -- "$@" "$base/4k.bin" ;;
	static1m) set -- "$@" "$base/1m.bin" ;;
	records_view) set -- "$@" -s "$here/wrk/view.lua" "$base" -- "$tmp/seed/ids.txt" "$RECORDS_PATH/" ;;
	records_list) set -- "$@" "$base$LIST_PATH" ;;
	records_list_skip) set -- "$@" "$base$LIST_PATH&skipTotal=1" ;;
	records_create | pb_create) set -- "$@" -s "$here/wrk/create.lua" "$base$RECORDS_PATH" -- \
		"$here/fixtures/post.json" ;;
	pb_list) set -- "$@" "$base$PB_LIST_PATH" ;;
	te_db) set -- "$@" "$base/db" ;;
	te_queries) set -- "$@" "$base/queries?queries=20" ;;
	te_updates) set -- "$@" "$base/updates?queries=20" ;;
	auth_list) set -- "$@" -H "Authorization: $(cat "$tmp/token-$port")" "$base$NOTES_LIST_PATH" ;;
	esac
	printf '%s\n' "$*" >"$o"
	timeout --foreground -k 5 $((secs + 30)) "$@" >>"$o" 2>&1
}

uptime_now() { awk '{ print $1 }' /proc/uptime; }

# login_run OUT WORKLOAD PORT PID...: one timed run of a login workload.
# A login takes hundreds of ms of one core, and a server hashes a few at
# once (its pool's threads), which on one core finish together: logins
# come in bursts, a round of hashes apart. A wrk run that starts from idle
# waits a whole round for its first answers, and a fixed window counts
# whole bursts: both would make short runs noisy, and the more so for the
# server with more hashes in flight. So the storm (wrk -cCONNECTIONS,
# wrk/login.lua, OUT.login) runs LOGIN_RAMP s before the measured window
# of DURATION s and a second past it; login.lua notes the time of every
# login, and the rate is that of the window's logins from its first to its
# last, where the logins at its start that follow each other by less than
# 50 ms count as the first (a tight burst), rather than a count over the
# window. The server's CPU time and the core
# counters are read at the window's edges; CPU per login is the CPU time
# per second of the window over that rate. health_during_login adds, for
# just the window, GET /api/health on one connection with HEALTH_PAUSE ms
# after each answer (OUT, with --latency). Sets reqs (logins in the
# window), rps, login_cpu, c0, c1, k0, k1; returns 1 when a wrk failed.
login_run() {
	lr_o=$1 lr_w=$2
	base=http://127.0.0.1:$3
	shift 3
	printf 'taskset -c %s wrk -t1 -c%s -d%ss --timeout 60s -s %s %s -- %s %s\n' "$CLIENT_CPU" \
		"$CONNECTIONS" "$((LOGIN_RAMP + DURATION + 1))" "$here/wrk/login.lua" "$base$LOGIN_PATH" \
		"$AUTH_USERS" "$MEMBER_PASSWORD" >"$lr_o.login"
	timeout -k 5 $((LOGIN_RAMP + DURATION + 40)) taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNECTIONS" \
		-d"$((LOGIN_RAMP + DURATION + 1))s" --timeout 60s -s "$here/wrk/login.lua" \
		"$base$LOGIN_PATH" -- "$AUTH_USERS" "$MEMBER_PASSWORD" >>"$lr_o.login" 2>&1 &
	lr_l=$!
	started="$started $lr_l"
	sleep "$LOGIN_RAMP"
	lr_u0=$(uptime_now)
	k0=$(core_ticks "$SERVER_CPU")
	c0=$(proc_sum cpu "$@")
	lr_h=""
	if [ "$lr_w" = health_during_login ]; then
		printf 'taskset -c %s wrk -t1 -c1 -d%ss --timeout 60s --latency -s %s %s -- %s\n' \
			"$CLIENT_CPU" "$DURATION" "$here/wrk/paced.lua" "$base/api/health" "$HEALTH_PAUSE" >"$lr_o"
		timeout -k 5 $((DURATION + 30)) taskset -c "$CLIENT_CPU" wrk -t1 -c1 -d"${DURATION}s" \
			--timeout 60s --latency -s "$here/wrk/paced.lua" "$base/api/health" -- "$HEALTH_PAUSE" \
			>>"$lr_o" 2>&1 &
		lr_h=$!
		started="$started $lr_h"
	fi
	sleep "$DURATION"
	c1=$(proc_sum cpu "$@")
	k1=$(core_ticks "$SERVER_CPU")
	lr_u1=$(uptime_now)
	lr_rc=0
	wait "$lr_l" || lr_rc=1
	if [ -n "$lr_h" ]; then wait "$lr_h" || lr_rc=1; fi
	lr_res=$(awk -v a="$lr_u0" -v b="$lr_u1" '$1 == "AT" && $2 >= a && $2 < b { print $2 }' \
		"$lr_o.login" | sort -g | awk -v d="$lr_u0" -v e="$lr_u1" -v t="$((c1 - c0))" \
		-v hz="$CLK_TCK" '{ at[NR] = $1 }
		END {
			n = NR; w = e - d
			if (n == 0 || w <= 0) { print 0, 0, 0; exit }
			i = 2
			while (i <= n && at[i] - at[i - 1] < 0.05) i++
			rate = (i <= n && at[n] > at[i - 1]) ? (n - i + 1) / (at[n] - at[i - 1]) : n / w
			printf "%d %.3f %.3f\n", n, rate, t / hz / w / rate * 1e6
		}')
	read -r reqs rps login_cpu <<EOF
$lr_res
EOF
	return $lr_rc
}

# Checks that server $1 answers workload $2 correctly before timing it.
verify() {
	case $2 in
	records_* | te_* | pb_*)
		verify_db "$@"
		return
		;;
	auth_* | health_during_login)
		verify_auth "$@"
		return
		;;
	esac
	port=$(port_of "$1")
	b=$tmp/body
	case $2 in
	plaintext | pipelined) path=/plaintext ;;
	json) path=/json ;;
	static4k) path=/4k.bin ;;
	static1m) path=/1m.bin ;;
	esac
	meta=$(curl -s --max-time 10 -o "$b" -w '%{http_code} %{content_type}' \
		"http://127.0.0.1:$port$path") || {
		say "bench: $1: GET $path failed"
		return 1
	}
	code=${meta%% *}
	ctype=${meta#* }
	ok=1
	case $2 in
	plaintext | pipelined)
		case $ctype in text/plain*) ;; *) ok=0 ;; esac
		[ "$(cat "$b")" = "Hello, World!" ] || ok=0
		;;
	json)
		case $ctype in application/json*) ;; *) ok=0 ;; esac
		[ "$(tr -d ' \t\r\n' <"$b")" = '{"message":"Hello,World!"}' ] || ok=0
		;;
	static4k) cmp -s "$b" "$tmp/public/4k.bin" || ok=0 ;;
	static1m) cmp -s "$b" "$tmp/public/1m.bin" || ok=0 ;;
	esac
	[ "$code" = 200 ] || ok=0
	if [ $ok = 0 ]; then
		say "bench: $1: GET $path gave status $code, type '$ctype', $(wc -c <"$b") bytes:" \
			"not the expected answer; cell skipped"
		return 1
	fi
	return 0
}

# The JSON of one TechEmpower row, as an extended regular expression.
TE_ROW='\{"id":[0-9]+,"randomNumber":[0-9]+\}'

# verify_db SERVER WORKLOAD: the records, TechEmpower and pb workloads'
# check: one request, status 200, JSON, and the expected shape. The body
# is kept in the logs; its size, and whether it is byte for byte the same
# as hearth's, go into the report.
verify_db() {
	port=$(port_of "$1")
	base=http://127.0.0.1:$port
	b=$logs/$1-$2.body
	id=$(head -n 1 "$tmp/seed/ids.txt")
	set -- "$1" "$2" curl -s --max-time 10 -o "$b" -w '%{http_code} %{content_type}'
	case $2 in
	records_view) set -- "$@" "$base$RECORDS_PATH/$id" ;;
	records_list) set -- "$@" "$base$LIST_PATH" ;;
	records_list_skip) set -- "$@" "$base$LIST_PATH&skipTotal=1" ;;
	pb_list) set -- "$@" "$base$PB_LIST_PATH" ;;
	records_create | pb_create) set -- "$@" -H 'Content-Type: application/json' \
		--data-binary "@$here/fixtures/post.json" "$base$RECORDS_PATH" ;;
	te_db) set -- "$@" "$base/db" ;;
	te_queries) set -- "$@" "$base/queries?queries=20" ;;
	te_updates) set -- "$@" "$base/updates?queries=20" ;;
	esac
	name=$1 w=$2
	shift 2
	meta=$("$@") || {
		say "bench: $name: $w: the request failed"
		return 1
	}
	code=${meta%% *}
	ctype=${meta#* }
	ok=1
	[ "$code" = 200 ] || ok=0
	case $ctype in application/json*) ;; *) ok=0 ;; esac
	items=$(grep -o '"collectionName":"posts"' "$b" | wc -l)
	case $w in
	records_view)
		grep -q "^{.*\"id\":\"$id\"" "$b" && [ "$items" -eq 1 ] || ok=0
		;;
	records_list)
		grep -q '^{"items":\[{.*\],"page":1,"perPage":20,"totalItems":[1-9][0-9]*,"totalPages":[1-9][0-9]*}$' \
			"$b" && [ "$items" -eq 20 ] || ok=0
		;;
	records_list_skip | pb_list)
		grep -q '^{"items":\[{.*\],"page":1,"perPage":20,"totalItems":-1,"totalPages":-1}$' "$b" &&
			[ "$items" -eq 20 ] || ok=0
		;;
	records_create | pb_create)
		grep -q '^{.*"id":"[a-z0-9]\{15\}".*"title":"Post from wrk: lorem ipsum dolor"' "$b" &&
			[ "$items" -eq 1 ] || ok=0
		;;
	te_db) grep -Eq "^$TE_ROW\$" "$b" || ok=0 ;;
	te_queries | te_updates) grep -Eq "^\[($TE_ROW,){19}$TE_ROW\]\$" "$b" || ok=0 ;;
	esac
	size=$(wc -c <"$b" | tr -d ' ')
	if [ $ok = 0 ]; then
		say "bench: $name: $w gave status $code, type '$ctype', $size bytes: not the expected" \
			"answer (kept in $b); cell skipped"
		return 1
	fi
	put "$name" "$w" bytes "$size"
	if [ "$name" != hearth ] && [ -f "$logs/hearth-$w.body" ]; then
		if cmp -s "$b" "$logs/hearth-$w.body"; then
			put "$name" "$w" same yes
		else
			put "$name" "$w" same no
		fi
	fi
	return 0
}

# verify_auth SERVER WORKLOAD: the auth group's check. First a login as
# member1@example.com, whose token (kept in $tmp/token-PORT) is the one
# auth_list sends; then the workload's request: status 200, JSON, the
# expected shape (auth_list: 1..20 notes, all owned by member1). Bodies are
# kept in the logs and compared with hearth's as verify_db does; login
# bodies with the token left out, since tokens differ in exp and signature.
verify_auth() {
	name=$1 w=$2
	port=$(port_of "$name")
	base=http://127.0.0.1:$port
	b=$logs/$name-$w.body
	l=$logs/$name-$w.login
	meta=$(curl -s --max-time 60 -o "$l" -w '%{http_code} %{content_type}' \
		-H 'Content-Type: application/json' \
		-d "{\"identity\":\"member1@example.com\",\"password\":\"$MEMBER_PASSWORD\"}" \
		"$base$LOGIN_PATH") || meta="000 none"
	tok=$(sed -n 's/.*,"token":"\([A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\)"}$/\1/p' "$l")
	uid=$(sed -n 's/^{"record":{.*,"id":"\([a-z0-9]\{15\}\)".*},"token":.*/\1/p' "$l")
	if [ "${meta%% *}" != 200 ] || [ -z "$tok" ] || [ -z "$uid" ]; then
		say "bench: $name: logging in as member1@example.com gave $meta (kept in $l); cell skipped"
		return 1
	fi
	printf '%s' "$tok" >"$tmp/token-$port"
	case $w in
	auth_login) cp "$l" "$b" ;;
	auth_list) meta=$(curl -s --max-time 10 -o "$b" -w '%{http_code} %{content_type}' \
		-H "Authorization: $tok" "$base$NOTES_LIST_PATH") || meta="000 none" ;;
	health_during_login) meta=$(curl -s --max-time 10 -o "$b" -w '%{http_code} %{content_type}' \
		"$base/api/health") || meta="000 none" ;;
	esac
	code=${meta%% *}
	ctype=${meta#* }
	ok=1
	[ "$code" = 200 ] || ok=0
	case $ctype in application/json*) ;; *) ok=0 ;; esac
	case $w in
	auth_list)
		items=$(grep -o '"collectionName":"notes"' "$b" | wc -l)
		mine=$(grep -o "\"owner\":\"$uid\"" "$b" | wc -l)
		grep -q '^{"items":\[{.*\],"page":1,"perPage":20,"totalItems":-1,"totalPages":-1}$' "$b" &&
			[ "$items" -ge 1 ] && [ "$items" -le 20 ] && [ "$mine" -eq "$items" ] || ok=0
		;;
	auth_login)
		grep -q '^{"record":{"collectionId":"[^"]*","collectionName":"members",.*"email":"member1@example.com",.*},"token":"[^"]*"}$' \
			"$b" || ok=0
		;;
	health_during_login) grep -q '"message":"API is healthy."' "$b" || ok=0 ;;
	esac
	size=$(wc -c <"$b" | tr -d ' ')
	if [ $ok = 0 ]; then
		say "bench: $name: $w gave status $code, type '$ctype', $size bytes: not the expected" \
			"answer (kept in $b); cell skipped"
		return 1
	fi
	put "$name" "$w" bytes "$size"
	if [ "$name" != hearth ] && [ -f "$logs/hearth-$w.body" ]; then
		sed 's/"token":"[^"]*"/"token":""/' "$b" >"$tmp/cmp-a"
		sed 's/"token":"[^"]*"/"token":""/' "$logs/hearth-$w.body" >"$tmp/cmp-b"
		if cmp -s "$tmp/cmp-a" "$tmp/cmp-b"; then
			put "$name" "$w" same yes
		else
			put "$name" "$w" same no
		fi
	fi
	return 0
}

# settle PID...: after a login run, waits until the server has worked off
# the logins still queued for connections wrk has closed (their hashes run
# to the end on the thread pool, on hearth and Node alike), i.e. until its
# CPU time grows by at most one tick in 0.3 s; at most 90 s. So that work
# is neither charged to the next run nor left running beside the other
# server's.
settle() {
	st_prev=$(proc_sum cpu "$@")
	st_i=0
	while [ $st_i -lt 300 ]; do
		sleep 0.3
		st_now=$(proc_sum cpu "$@")
		[ $((st_now - st_prev)) -le 1 ] && return 0
		st_prev=$st_now
		st_i=$((st_i + 1))
	done
	say "bench: warning: pids $* were still busy 90 s after the run"
}

# Milliseconds from one of wrk's latency figures (e.g. 812.00us, 1.20ms, 2.05s).
to_ms() {
	awk -v x="$1" 'BEGIN { u = x; sub(/^[0-9.]+/, "", u); v = x + 0
		printf "%.3f", u == "us" ? v / 1000 : u == "s" ? v * 1000 : u == "m" ? v * 60000 : v }'
}

# A cell (server, workload) is measured in three steps, so that the te and
# records groups can interleave the runs of hearth and Node (see the main
# loop): cell_start checks the answer, resets the peak RSS and warms up;
# cell_run makes one timed run; cell_end puts the medians. The numbers of
# the runs so far live in variables named after the server (acc_hearth_rps
# ...), since two cells are open at once. Each returns 1 once the cell has
# failed (its status is then "fail" and the later steps are skipped).

# cell_start SERVER WORKLOAD PID...
cell_start() {
	name=$1 w=$2
	shift 2
	port=$(port_of "$name")
	eval "acc_${name}_rps='' acc_${name}_cpu='' acc_${name}_err=0 acc_${name}_fp=0"
	eval "acc_${name}_p50='' acc_${name}_p99='' acc_${name}_max='' acc_${name}_hrps=''"
	if ! verify "$name" "$w"; then
		put "$name" "$w" status fail
		return 1
	fi
	reset_peak "$@" || put "$name" "$w" peak cumulative
	# The login workloads' ramp (login_run) is their warm-up.
	case $w in auth_login | health_during_login) return 0 ;; esac
	if [ "$WARMUP" -gt 0 ]; then
		wrk_run "$logs/$name-$w-warmup.txt" "$WARMUP" "$w" "$port"
	fi
	return 0
}

# wrk_errors FILE...: socket errors and non-2xx answers in wrk outputs.
wrk_errors() {
	awk '/Socket errors:/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 }
		/Non-2xx or 3xx responses:/ { n += $NF } END { print n + 0 }' "$@"
}

# cell_run SERVER WORKLOAD RUN PID...
cell_run() {
	name=$1 w=$2 r=$3
	shift 3
	port=$(port_of "$name")
	o=$logs/$name-$w-$r.txt
	lo=$o h50=- h99=-
	case $w in
	auth_login | health_during_login)
		lo=$o.login
		login_run "$o" "$w" "$port" "$@"
		rc=$?
		settle "$@"
		;;
	*)
		k0=$(core_ticks "$SERVER_CPU")
		c0=$(proc_sum cpu "$@")
		wrk_run "$o" "$DURATION" "$w" "$port"
		rc=$?
		c1=$(proc_sum cpu "$@")
		k1=$(core_ticks "$SERVER_CPU")
		reqs=$(awk '/ requests in / { print $1; exit }' "$o")
		rps=$(awk '/^Requests\/sec:/ { print $2; exit }' "$o")
		;;
	esac
	fp=$(foreign_pct "$k0" "$k1" "$((c1 - c0))")
	# pb: the server and wrk share both cores by design.
	[ "$(group_of "$w")" = pb ] && fp=0
	# health_during_login: req/s and CPU per request are the logins'; the
	# health checks add their latency (and their errors).
	if [ "$w" = health_during_login ]; then
		h50=$(to_ms "$(awk '/^ +50%/ { print $2; exit }' "$o")")
		h99=$(to_ms "$(awk '/^ +99%/ { print $2; exit }' "$o")")
		hmax=$(to_ms "$(awk '$1 == "Latency" && NF >= 5 { print $4; exit }' "$o")")
		hrps=$(awk '/^Requests\/sec:/ { print $2; exit }' "$o")
		eval "acc_${name}_p50=\"\$acc_${name}_p50 $h50\" acc_${name}_p99=\"\$acc_${name}_p99 $h99\""
		eval "acc_${name}_max=\"\$acc_${name}_max $hmax\" acc_${name}_hrps=\"\$acc_${name}_hrps ${hrps:-0}\""
	fi
	if [ "$w" = health_during_login ]; then
		e=$(wrk_errors "$o" "$lo")
	else
		e=$(wrk_errors "$lo")
	fi
	if [ $rc -ne 0 ] || [ -z "$reqs" ] || [ -z "$rps" ] || [ "$reqs" -eq 0 ]; then
		say "bench: $name $w run $r: wrk failed (exit $rc); see $o"
		put "$name" "$w" status fail
		return 1
	fi
	case $w in
	auth_login | health_during_login) cpu=$login_cpu ;;
	*) cpu=$(awk -v t="$((c1 - c0))" -v hz="$CLK_TCK" -v n="$reqs" \
		'BEGIN { printf "%.3f", t / hz * 1e6 / n }') ;;
	esac
	# "N requests in 2.00s, 2.92GB read": a sanity check of response sizes.
	bpr=$(awk '/ requests in / { x = $(NF - 1); u = x; sub(/^[0-9.]+/, "", u)
		m = u == "KB" ? 1024 : u == "MB" ? 1048576 : u == "GB" ? 1073741824 : 1
		if ($1 > 0) printf "%.0f", (x + 0) * m / $1; exit }' "$lo")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$w" "$r" "$reqs" "$rps" "$cpu" \
		"$e" "$bpr" "$fp" "$h50" "$h99" >>"$runs_tsv"
	say "  $name $w run $r/$RUNS: $rps req/s, $cpu µs CPU/req, $e errors," \
		"$fp% of core $SERVER_CPU used by others"
	[ "$w" = health_during_login ] &&
		say "    /api/health meanwhile: $hrps req/s, p50 $h50 ms, p99 $h99 ms, max $hmax ms"
	eval "acc_${name}_rps=\"\$acc_${name}_rps $rps\" acc_${name}_cpu=\"\$acc_${name}_cpu $cpu\""
	eval "acc_${name}_err=\$((acc_${name}_err + e))"
	eval "[ \"$fp\" -gt \"\$acc_${name}_fp\" ] && acc_${name}_fp=$fp"
	return 0
}

# cell_end SERVER WORKLOAD PID...
cell_end() {
	name=$1 w=$2
	shift 2
	eval "rpss=\$acc_${name}_rps cpus=\$acc_${name}_cpu errs=\$acc_${name}_err fpm=\$acc_${name}_fp"
	# shellcheck disable=SC2086,SC2154 # rpss and cpus are set by the eval
	put "$name" "$w" rps "$(median $rpss)"
	# shellcheck disable=SC2086,SC2154
	put "$name" "$w" cpu "$(median $cpus)"
	put "$name" "$w" rss "$(proc_sum hwm "$@")"
	# shellcheck disable=SC2154
	put "$name" "$w" err "$errs"
	# shellcheck disable=SC2154
	put "$name" "$w" foreign "$fpm"
	if [ "$w" = health_during_login ]; then
		for k in p50 p99 max hrps; do
			eval "ks=\$acc_${name}_$k"
			# shellcheck disable=SC2086,SC2154 # ks is set by the eval
			put "$name" "$w" "$k" "$(median $ks)"
		done
	fi
	put "$name" "$w" status ok
}

# bench_wrk SERVER WORKLOAD PID...: warm-up, RUNS timed runs, medians.
bench_wrk() {
	cell_start "$@" || return
	bw_name=$1 bw_w=$2
	shift 2
	bw_r=1
	while [ "$bw_r" -le "$RUNS" ]; do
		cell_run "$bw_name" "$bw_w" "$bw_r" "$@" || return
		bw_r=$((bw_r + 1))
	done
	cell_end "$bw_name" "$bw_w" "$@"
}

# bench_idle SERVER PID...: hold IDLE_CONNS idle keep-alive connections once.
bench_idle() {
	name=$1
	shift
	port=$(port_of "$name")
	o=$logs/$name-idle.txt
	if ! verify "$name" plaintext; then
		put "$name" idle status fail
		return
	fi
	rss0=$(proc_sum rss "$@")
	c0=$(proc_sum cpu "$@")
	reset_peak "$@" || put "$name" idle peak cumulative
	timeout -k 5 $((IDLE_TIMEOUT + IDLE_HOLD + 30)) taskset -c "$CLIENT_CPU" "$tmp/idleconns" \
		"$port" "$IDLE_CONNS" /plaintext "$IDLE_HOLD" "$IDLE_TIMEOUT" >"$o" 2>&1 &
	cpid=$!
	started="$started $cpid"
	i=0
	while ! grep -q '^READY' "$o" && alive "$cpid" && [ $i -lt $((IDLE_TIMEOUT * 10 + 100)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if ! grep -q '^READY' "$o"; then
		stop_pids "$cpid"
		say "bench: $name idle: the client did not report; see $o"
		put "$name" idle status fail
		return
	fi
	sleep 0.5 # let the server finish the last responses' bookkeeping
	rss1=$(proc_sum rss "$@")
	hwm1=$(proc_sum hwm "$@")
	c1=$(proc_sum cpu "$@")
	wait "$cpid"
	okc=$(sed -n 's/^READY ok=\([0-9]*\).*/\1/p' "$o")
	held=$(sed -n 's/^HELD held=\([0-9]*\).*/\1/p' "$o")
	: "${held:=0}"
	if [ -z "$okc" ] || [ "$okc" -eq 0 ]; then
		say "bench: $name idle: no connection succeeded; see $o"
		put "$name" idle status fail
		return
	fi
	put "$name" idle ok "$okc"
	put "$name" idle held "$held"
	put "$name" idle rss "$rss1"
	put "$name" idle hwm "$hwm1"
	put "$name" idle cpu "$(awk -v t="$((c1 - c0))" -v hz="$CLK_TCK" -v n="$okc" \
		'BEGIN { printf "%.3f", t / hz * 1e6 / n }')"
	put "$name" idle perconn "$(awk -v a="$rss0" -v b="$rss1" -v n="$okc" \
		'BEGIN { printf "%.2f", (b - a) / n }')"
	put "$name" idle status ok
	say "  $name idle: $okc of $IDLE_CONNS answered, $held still open after ${IDLE_HOLD} s," \
		"RSS $rss0 -> $rss1 KiB"
}

# ---- The run ----

cmdline="sh $0"
[ $# -gt 0 ] && cmdline="$cmdline $*"
envs=$(env | grep '^BENCH_' | sort | sed 's/^\([^=]*\)=\(.*\)$/\1="\2"/' | tr '\n' ' ')
[ -n "$envs" ] && cmdline="$envs$cmdline"
say "bench: $cmdline"
say "bench: servers: $SERVERS; workloads: $WORKLOADS; ${DURATION} s x $RUNS runs; ulimit -n $NOFILE"

# Is the machine quiet? One second of both cores before we start.
q0s=$(core_ticks "$SERVER_CPU") q0c=$(core_ticks "$CLIENT_CPU")
sleep 1
quiet_s=$(foreign_pct "$q0s" "$(core_ticks "$SERVER_CPU")" 0)
quiet_c=$(foreign_pct "$q0c" "$(core_ticks "$CLIENT_CPU")" 0)
if [ "$quiet_s" -gt 10 ] || [ "$quiet_c" -gt 10 ]; then
	say "bench: warning: before the run, core $SERVER_CPU was $quiet_s% and core $CLIENT_CPU" \
		"$quiet_c% busy: other load will disturb the numbers"
fi

# ---- The data set of the te, records, auth and pb groups ----

SEED_EMAIL=admin@example.com
SEED_PASSWORD='Passw0rd!'
# Every member's password (bench/seed.c copies member1's hash to the rest).
MEMBER_PASSWORD='Passw0rd!'

# seed_post TOKEN FILE|-DATA PATH NAME: a superuser's POST to the seeding
# server; the answer goes to build/bench/logs/seed-NAME.json. Returns 1, with
# seeded set, unless the status is 200.
seed_post() {
	case $2 in -*) sp_d=${2#-} ;; *) sp_d=@$2 ;; esac
	code=$(curl -s --max-time 60 -o "$logs/seed-$4.json" -w '%{http_code}' \
		-H "Authorization: $1" -H 'Content-Type: application/json' \
		--data-binary "$sp_d" "http://127.0.0.1:$sport$3")
	[ "$code" = 200 ] && return 0
	seeded="creating $4 gave status $code (see build/bench/logs/seed-$4.json)"
	return 1
}

# Makes $tmp/seed/: hearth_data/data.db with the posts collection (created
# through the collections API of a hearth started for the purpose, so the
# schema is hearth's own) and RECORDS posts (bench/seed.c, one
# transaction), ids.txt with their ids, and world.db. When the auth group
# runs, the data.db also gets the auth collection "members" and "notes"
# through the API, member1@example.com through the records API (so its
# password hash is hearth's argon2id), then from bench/seed.c the other
# members (AUTH_USERS in all) and AUTH_NOTES notes. On failure sets seeded
# to the reason and returns 1.
seed_data() {
	d=$tmp/seed
	sl=$logs/seed.log
	mkdir -p "$d/hearth_data"
	if ! build_hearth build/hearth || ! build_hearth build/hearth-bench; then
		seeded="hearth does not build (see build/bench/logs/hearth-build.log)"
		return 1
	fi
	sport=$(port_of seed)
	if port_in_use "$sport"; then
		seeded="port $sport, the seeding server's, is already in use (set BENCH_PORT_BASE)"
		return 1
	fi
	if ! "$root/build/hearth" superuser upsert "$SEED_EMAIL" "$SEED_PASSWORD" \
		--dir "$d/hearth_data" >"$sl" 2>&1; then
		seeded="hearth superuser upsert failed (see build/bench/logs/seed.log)"
		return 1
	fi
	"$root/build/hearth" serve --http "127.0.0.1:$sport" --dir "$d/hearth_data" --workers 1 \
		--quiet >>"$sl" 2>&1 &
	sp=$!
	started="$started $sp"
	if ! wait_ready "$sp" "$sport" /api/health; then
		stop_pids "$sp"
		seeded="hearth did not start for seeding (see build/bench/logs/seed.log)"
		return 1
	fi
	tok=$(curl -s --max-time 30 -H 'Content-Type: application/json' \
		-d "{\"identity\":\"$SEED_EMAIL\",\"password\":\"$SEED_PASSWORD\"}" \
		"http://127.0.0.1:$sport/api/collections/_superusers/auth-with-password" |
		sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
	ok=1
	seed_post "$tok" "$here/fixtures/posts_collection.json" /api/collections collection || ok=0
	if [ $ok = 1 ] && wants_group auth; then
		seed_post "$tok" "$here/fixtures/members_collection.json" /api/collections members &&
			seed_post "$tok" "$here/fixtures/notes_collection.json" /api/collections notes &&
			seed_post "$tok" "-{\"email\":\"member1@example.com\",\"password\":\"$MEMBER_PASSWORD\",\"passwordConfirm\":\"$MEMBER_PASSWORD\"}" \
				/api/collections/members/records member1 || ok=0
	fi
	stop_pids "$sp"
	[ $ok = 1 ] || return 1
	if ! "$root/build/hearth-bench" seed --posts "$d/hearth_data/data.db" --count "$RECORDS" \
		--ids "$d/ids.txt" --world "$d/world.db" >>"$sl" 2>&1; then
		seeded="hearth-bench seed failed (see build/bench/logs/seed.log)"
		return 1
	fi
	if wants_group auth && ! "$root/build/hearth-bench" seed --auth "$d/hearth_data/data.db" \
		--users "$AUTH_USERS" --notes "$AUTH_NOTES" >>"$sl" 2>&1; then
		seeded="hearth-bench seed --auth failed (see build/bench/logs/seed.log)"
		return 1
	fi
	return 0
}

seeded="not needed"
if wants_group te || wants_group records || wants_group auth || wants_group pb; then
	say "bench: making the data set: $RECORDS posts through hearth's API and bench/seed.c," \
		"10,000 world rows$(wants_group auth && echo ", $AUTH_USERS members, $AUTH_NOTES notes")"
	t0=$(date +%s)
	if seed_data; then
		seeded=ok
		say "bench: data set ready in $(($(date +%s) - t0)) s:" \
			"$(($(wc -c <"$tmp/seed/hearth_data/data.db") / 1048576)) MiB data.db"
	else
		say "bench: no data set: $seeded; the te, records, auth and pb cells are skipped"
	fi
fi

# ---- The servers ----

# The selected workloads of group $2 that server $1 runs.
group_workloads() {
	gw=""
	for w in $WORKLOADS; do
		[ "$(group_of "$w")" = "$2" ] && supports "$1" "$w" && gw="$gw $w"
	done
	echo "$gw"
}

# open_server SERVER GROUP: prepares and starts the server for the group
# and waits until it answers; sets spid (and spid_SERVER). Returns 1, with
# the reason recorded, when it is skipped. Skips and deaths are recorded per
# group: "-" for the engine group (as the engine report expects), "-te"
# and so on for the others.
open_server() {
	os_name=$1 os_g=$2
	os_key=-$os_g
	[ "$os_g" = engine ] && os_key=-
	why=""
	if ! prepare "$os_name" "$os_g"; then
		say "bench: $os_name ($os_g): skipped: $why"
		put "$os_name" "$os_key" skipped "skipped: $why"
		return 1
	fi
	port=$(port_of "$os_name")
	if port_in_use "$port"; then
		say "bench: $os_name: port $port is already in use; skipped (set BENCH_PORT_BASE)"
		put "$os_name" "$os_key" skipped "skipped: port $port was already in use"
		return 1
	fi
	start "$os_name" "$os_g"
	if ! wait_ready "$spid" "$port" "$(ready_path "$os_g")"; then
		say "bench: $os_name: did not answer on port $port within 10 s; skipped" \
			"(see $logs/$os_name-$os_g.log)"
		stop_pids "$spid"
		put "$os_name" "$os_key" skipped \
			"skipped: did not answer on port $port (see build/bench/logs/$os_name-$os_g.log)"
		return 1
	fi
	eval "spid_$os_name=$spid"
	return 0
}

# One server after the other (engine and pb groups): start it, run its
# workloads, stop it.
one_by_one() {
	ob_g=$1
	for name in $SERVERS; do
		gw=$(group_workloads "$name" "$ob_g")
		[ -n "$gw" ] || continue
		ob_key=-$ob_g
		if [ "$ob_g" = engine ]; then
			ob_key=-
			ran="$ran $name"
			say "== $name"
		else
			say "== $name ($ob_g)"
		fi
		open_server "$name" "$ob_g" || continue
		sleep 0.3 # let nginx's worker come up before collecting pids
		pids=$(pids_of "$spid")
		for w in $gw; do
			[ "$w" = pipelined ] && [ $pipeline_ok = 0 ] && continue
			if [ "$w" = idle ]; then
				[ $idle_ok = 1 ] || continue
				# shellcheck disable=SC2086
				bench_idle "$name" $pids
			else
				# shellcheck disable=SC2086
				bench_wrk "$name" "$w" $pids
			fi
			alive "$spid" || {
				say "bench: $name died during $w (see $logs/$name-$ob_g.log)"
				put "$name" "$ob_key" skipped "died during $w (see build/bench/logs/$name-$ob_g.log)"
				break
			}
		done
		stop_pids "$spid"
	done
}

# Side by side (te, records and auth groups): hearth and Node both run (each on
# its own copy of the data, both pinned to the server core, only one
# loaded at a time), and for each workload their timed runs alternate:
# hearth run 1, node run 1, hearth run 2... So a slow minute on a shared
# machine lands on both, not on one, and their ratio stays honest.
side_by_side() {
	sb_g=$1
	sb_up="" sb_all=""
	for sb_s in $SERVERS; do
		[ -n "$(group_workloads "$sb_s" "$sb_g")" ] || continue
		say "== $sb_s ($sb_g)"
		open_server "$sb_s" "$sb_g" || continue
		sb_up="$sb_up $sb_s"
	done
	sb_all=$sb_up
	[ -n "$sb_up" ] || return 0
	sleep 0.3
	for sb_s in $sb_up; do
		eval "sb_pids_$sb_s=\$(pids_of \"\$spid_$sb_s\")"
	done
	for sb_w in $WORKLOADS; do
		[ "$(group_of "$sb_w")" = "$sb_g" ] || continue
		say "-- $sb_w:$sb_up"
		sb_open=""
		for sb_s in $sb_up; do
			supports "$sb_s" "$sb_w" || continue
			eval "sb_p=\$sb_pids_$sb_s"
			# shellcheck disable=SC2086,SC2154 # sb_p is set by the eval
			cell_start "$sb_s" "$sb_w" $sb_p && sb_open="$sb_open $sb_s"
		done
		sb_r=1
		while [ "$sb_r" -le "$RUNS" ] && [ -n "$sb_open" ]; do
			sb_next=""
			for sb_s in $sb_open; do
				eval "sb_p=\$sb_pids_$sb_s"
				# shellcheck disable=SC2086
				cell_run "$sb_s" "$sb_w" "$sb_r" $sb_p && sb_next="$sb_next $sb_s"
			done
			sb_open=$sb_next
			sb_r=$((sb_r + 1))
		done
		for sb_s in $sb_open; do
			eval "sb_p=\$sb_pids_$sb_s"
			# shellcheck disable=SC2086
			cell_end "$sb_s" "$sb_w" $sb_p
		done
		sb_alive=""
		for sb_s in $sb_up; do
			eval "sb_sp=\$spid_$sb_s"
			# shellcheck disable=SC2154 # sb_sp is set by the eval
			if alive "$sb_sp"; then
				sb_alive="$sb_alive $sb_s"
			else
				say "bench: $sb_s died during $sb_w (see $logs/$sb_s-$sb_g.log)"
				put "$sb_s" "-$sb_g" skipped "died during $sb_w (see build/bench/logs/$sb_s-$sb_g.log)"
			fi
		done
		sb_up=$sb_alive
	done
	for sb_s in $sb_all; do
		eval "sb_sp=\$spid_$sb_s"
		stop_pids "$sb_sp"
	done
}

ran="" # servers that took part in the engine group: that table's columns
for g in engine te records auth pb; do
	wants_group "$g" || continue
	case $g in
	te | records | auth) side_by_side "$g" ;;
	*) one_by_one "$g" ;;
	esac
done

# ---- The report ----

cpu_model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
wrk_v=$(wrk -v 2>&1 | awk 'NR == 1 { print $2 }')
nginx_v=$([ -n "$NGINX" ] && "$NGINX" -v 2>&1 | sed 's/^nginx version: //')
node_v=$([ -n "$NODE" ] && "$NODE" --version 2>/dev/null)
cc_v=$(cc --version 2>/dev/null | head -n 1)
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo "no commit")
sqlite_v=$(pkg-config --modversion sqlite3 2>/dev/null)
bsq_v="" bsq_sqlite_v=""
if [ -n "$NODE" ] && [ -d "$here/peers/node_modules/better-sqlite3" ]; then
	bsq_v=$(cd "$here/peers" && "$NODE" -p "require('better-sqlite3/package.json').version" 2>/dev/null)
	bsq_sqlite_v=$(cd "$here/peers" && "$NODE" -p \
		"new (require('better-sqlite3'))(':memory:').prepare('select sqlite_version() v').get().v" \
		2>/dev/null)
fi
engine_ws="" db_ws="" auth_ws="" pb_ws=""
for w in $WORKLOADS; do
	case $(group_of "$w") in
	engine) engine_ws="$engine_ws $w" ;;
	auth) auth_ws="$auth_ws $w" ;;
	pb) pb_ws="$pb_ws $w" ;;
	*) db_ws="$db_ws $w" ;;
	esac
done

{
	echo "# hearth benchmark"
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); tree: $commit"
	echo "- command: \`$cmdline\`"
	echo "- machine: nproc $(nproc), $cpu_model, $mem RAM, $(uname -srm)"
	echo "- tools: wrk ${wrk_v:-?}, ${nginx_v:-nginx absent}, node ${node_v:-absent}, $cc_v"
	[ -n "$engine_ws" ] && [ -n "$db_ws$auth_ws$pb_ws" ] && echo && echo "## HTTP engine" && echo
	echo "- method: server pinned to core $SERVER_CPU, wrk -t1 -c$CONNECTIONS pinned to core $CLIENT_CPU;" \
		"${DURATION} s per run, median of $RUNS run(s) after a ${WARMUP} s warm-up;" \
		"pipelined = $PIPELINE_DEPTH requests per write; ulimit -n $NOFILE;" \
		"load before the run: core $SERVER_CPU $quiet_s%, core $CLIENT_CPU $quiet_c% busy"
	echo "- req/s: wrk's Requests/sec. µs/req: the server's utime+stime (/proc/PID/stat," \
		"all threads; nginx master+worker) over the run ÷ requests completed." \
		"RSS: peak (VmHWM) during the workload, MiB; nginx: master + worker."
	echo "- idle: $IDLE_CONNS keep-alive connections, one GET /plaintext each, then held" \
		"${IDLE_HOLD} s; cells: connections still open at the end, µs CPU per connection," \
		"RSS (VmRSS) while held."
	echo
} >"$tmp/report"

[ -n "$engine_ws" ] && awk -F '\t' -v foreign_limit=10 -v servers="$ran" -v workloads="$engine_ws" -v depth="$PIPELINE_DEPTH" -v idle_n="$IDLE_CONNS" '
function commas(x,    s, r) {
	s = sprintf("%.0f", x); r = ""
	while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
	return s r
}
function us(x) { return x < 10 ? sprintf("%.2f", x) : x < 100 ? sprintf("%.1f", x) : sprintf("%.0f", x) }
function mib(kib) { return sprintf("%.1f", kib / 1024) }
function ratio(a, b) { return (a == "" || b == "" || b + 0 == 0) ? "-" : sprintf("%.2f×", a / b) }
function get(s, w, k) { return ((s, w, k) in v) ? v[s, w, k] : "" }
function label(w) {
	if (w == "pipelined") return "plaintext, pipelined " depth
	if (w == "static4k") return "static 4 KiB file"
	if (w == "static1m") return "static 1 MiB file"
	if (w == "idle") return "idle keep-alive, " commas(idle_n) " conns"
	return w
}
{ v[$1, $2, $3] = $4 }
END {
	ns = split(servers, S, " "); nw = split(workloads, W, " ")
	if (ns == 0) { print "No server ran."; exit }
	line = "| workload |"; sep = "| --- |"
	for (i = 1; i <= ns; i++) {
		line = line " " S[i] " req/s | " S[i] " µs/req | " S[i] " RSS MiB |"
		sep = sep " ---: | ---: | ---: |"
	}
	print line; print sep
	for (j = 1; j <= nw; j++) {
		w = W[j]; line = "| " label(w) " |"
		for (i = 1; i <= ns; i++) {
			s = S[i]; st = get(s, w, "status")
			if (get(s, "-", "skipped") != "" && st == "") {
				line = line " skipped | | |"
			} else if (st == "") {
				line = line " - | - | - |"
			} else if (st == "fail") {
				line = line " fail | - | - |"; notes = notes "\n- " s ", " w ": failed (see build/bench/logs/)"
			} else if (w == "idle") {
				line = line " " commas(get(s, w, "held")) " held | " us(get(s, w, "cpu")) " | " mib(get(s, w, "rss")) " |"
				if (get(s, w, "held") + 0 < idle_n) notes = notes "\n- " s ", idle: only " get(s, w, "ok") " of " idle_n " connections answered, " get(s, w, "held") " still open after the hold"
			} else {
				mark = ""
				if (get(s, w, "err") + 0 > 0) { mark = " †"; notes = notes "\n- † " s ", " w ": " get(s, w, "err") " socket errors or non-2xx responses over all runs (see build/bench/logs/)" }
				if (get(s, w, "foreign") + 0 > foreign_limit) { mark = mark " ‡"; notes = notes "\n- ‡ " s ", " w ": in one run other processes (or VM steal) took " get(s, w, "foreign") "% of the server core: numbers disturbed" }
				line = line " " commas(get(s, w, "rps")) mark " | " us(get(s, w, "cpu")) " | " mib(get(s, w, "rss")) " |"
			}
			if (get(s, w, "peak") == "cumulative") cum = 1
		}
		print line
	}
	for (i = 1; i <= ns; i++)
		if (get(S[i], "-", "skipped") != "") notes = notes "\n- " S[i] ": " get(S[i], "-", "skipped")
	if (cum) notes = notes "\n- /proc/PID/clear_refs was not writable: some RSS cells are peaks since the server started"

	# Ratios: CPU per request against the ceiling, static throughput against nginx.
	nr = 0
	for (i = 1; i <= ns; i++) if (S[i] != "ceiling") R[++nr] = S[i]
	out = ""
	for (j = 1; j <= nw; j++) {
		w = W[j]
		if (w == "plaintext" || w == "pipelined" || w == "json") {
			ref = "ceiling"; if (get(ref, w, "status") != "ok") continue
			a = "| " label(w) ": CPU µs/req ÷ ceiling |"; b = "| " label(w) ": req/s ÷ ceiling |"
			for (i = 1; i <= nr; i++) {
				ok = get(R[i], w, "status") == "ok"
				a = a " " (ok ? ratio(get(R[i], w, "cpu"), get(ref, w, "cpu")) : "-") " |"
				b = b " " (ok ? ratio(get(R[i], w, "rps"), get(ref, w, "rps")) : "-") " |"
			}
			out = out a "\n" b "\n"
		} else if (w == "static4k" || w == "static1m") {
			ref = "nginx"; if (get(ref, w, "status") != "ok") continue
			a = "| " label(w) ": req/s ÷ nginx |"; b = "| " label(w) ": CPU µs/req ÷ nginx |"
			for (i = 1; i <= nr; i++) {
				ok = get(R[i], w, "status") == "ok"
				a = a " " (ok ? ratio(get(R[i], w, "rps"), get(ref, w, "rps")) : "-") " |"
				b = b " " (ok ? ratio(get(R[i], w, "cpu"), get(ref, w, "cpu")) : "-") " |"
			}
			out = out a "\n" b "\n"
		} else if (w == "idle") {
			a = "| idle: RSS growth, KiB per connection |"; any = 0
			for (i = 1; i <= nr; i++) {
				ok = get(R[i], w, "status") == "ok"; any += ok
				a = a " " (ok ? sprintf("%.1f", get(R[i], w, "perconn")) : "-") " |"
			}
			if (any) out = out a "\n"
		}
	}
	if (out != "" && nr > 0) {
		print ""; print "Ratios (CPU: lower is better; req/s: higher is better):"; print ""
		line = "| ratio |"; sep = "| --- |"
		for (i = 1; i <= nr; i++) { line = line " " R[i] " |"; sep = sep " ---: |" }
		print line; print sep; printf "%s", out
	}
	if (notes != "") { print ""; print "Notes:" notes }
}' "$results" >>"$tmp/report"

# ---- The records, TechEmpower and PocketBase-shaped tables ----

if [ -n "$db_ws" ]; then
	{
		echo
		echo "## Records API and storage layer: hearth vs Node.js + fastify + better-sqlite3"
		echo
		echo "- data: one collection \"posts\" of $RECORDS records (title, ~200-character body," \
			"views, status, author, created/updated), made through hearth's collections API" \
			"and bench/seed.c; Node.js serves a copy of the same file. Indexes: created;" \
			"(status, created, views)."
		echo "- list: \`GET $LIST_PATH\` (20 per page, filter \`status='published' && views>500\`," \
			"sort \`-created\`), without and with \`skipTotal=1\`; view: one record by an id" \
			"drawn at random from all $RECORDS; create: POST bench/fixtures/post.json." \
			"TechEmpower: /db, /queries?queries=20, /updates?queries=20 on a 10,000-row world table."
		echo "- hearth: \`hearth serve --workers 1\` (records) and \`hearth-bench --te-db\`" \
			"(TechEmpower, bench/te.c on src/db/db.h); node: bench/peers/node_records.js," \
			"one process. Both on core $SERVER_CPU, wrk -t1 -c$CONNECTIONS on core $CLIENT_CPU;" \
			"both use WAL, synchronous=NORMAL and an 8 MiB page cache (hearth: SQLite" \
			"${sqlite_v:-?}; better-sqlite3 ${bsq_v:-?} bundles SQLite ${bsq_sqlite_v:-?})."
		echo "- body bytes: the checked response's body (Node's: \"same\" when byte for byte" \
			"hearth's). CPU/req node ÷ hearth: how many times more CPU Node spends per" \
			"request, i.e. the req/s ratio the two would have if neither wrk nor other load" \
			"limited them. Targets are the issue's; \"met\" judges req/s and RSS (µs/req for db);" \
			"\"CPU only\": the req/s ratio falls short, the CPU/req ratio meets the target."
		echo "- reference, from the issue, on this machine: Kore (C) 11 µs per db request;" \
			"Node + better-sqlite3 29 µs per db request, 236 µs per 20-row update."
		echo
	} >>"$tmp/report"
	awk -F '\t' -v workloads="$db_ws" -v foreign_limit=10 '
function commas(x,    s, r) {
	s = sprintf("%.0f", x); r = ""
	while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
	return s r
}
function us(x) { return x < 10 ? sprintf("%.2f", x) : x < 100 ? sprintf("%.1f", x) : sprintf("%.0f", x) }
function mib(kib) { return sprintf("%.1f", kib / 1024) }
function get(s, w, k) { return ((s, w, k) in v) ? v[s, w, k] : "" }
function group(w) { return w ~ /^records_/ ? "-records" : "-te" }
function ok(s, w) { return get(s, w, "status") == "ok" }
function label(w) {
	if (w == "records_view") return "view one record by id"
	if (w == "records_list") return "list 20, filter + sort"
	if (w == "records_list_skip") return "list 20, filter + sort, skipTotal"
	if (w == "records_create") return "create one record"
	if (w == "te_db") return "TechEmpower db"
	if (w == "te_queries") return "TechEmpower queries (20)"
	if (w == "te_updates") return "TechEmpower updates (20)"
	return w
}
function target(w) {
	if (w ~ /^records_/) return "≥ 4× req/s, ≤ ⅓ RSS"
	if (w == "te_db") return "≤ 11 µs/req"
	if (w == "te_updates") return "≥ 1.5× req/s"
	return "none set"
}
# "yes", "no", "-" (not measured), or "CPU only": the req/s ratio falls
# short but the CPU per request ratio (the capacity ratio) meets it.
function met(w,    r, c, x, m) {
	if (w == "te_db") return ok("hearth", w) ? (get("hearth", w, "cpu") + 0 <= 11 ? "yes" : "no") : "-"
	if (!ok("hearth", w) || !ok("node", w)) return "-"
	r = get("hearth", w, "rps") / get("node", w, "rps")
	c = get("hearth", w, "cpu") + 0 > 0 ? get("node", w, "cpu") / get("hearth", w, "cpu") : 0
	m = 1
	if (w ~ /^records_/) { x = 4; m = get("hearth", w, "rss") * 3 <= get("node", w, "rss") + 0 }
	else if (w == "te_updates") x = 1.5
	else return "-"
	if (!m) return "no"
	return r >= x ? "yes" : c >= x ? "CPU only" : "no"
}
function cells(s, w,    st, mark) {
	st = get(s, w, "status")
	if (st == "" && get(s, group(w), "skipped") != "") return " skipped | | |"
	if (st == "") return " - | - | - |"
	if (st == "fail") { notes = notes "\n- " s ", " w ": failed (see build/bench/logs/)"; return " fail | - | - |" }
	mark = ""
	if (get(s, w, "err") + 0 > 0) { mark = " †"; notes = notes "\n- † " s ", " w ": " get(s, w, "err") " socket errors or non-2xx responses over all runs (see build/bench/logs/)" }
	if (get(s, w, "foreign") + 0 > foreign_limit) { mark = mark " ‡"; notes = notes "\n- ‡ " s ", " w ": in one run other processes (or VM steal) took " get(s, w, "foreign") "% of the server core: numbers disturbed" }
	return " " commas(get(s, w, "rps")) mark " | " us(get(s, w, "cpu")) " | " mib(get(s, w, "rss")) " |"
}
{ v[$1, $2, $3] = $4 }
END {
	nw = split(workloads, W, " ")
	print "| workload | hearth req/s | hearth µs/req | hearth RSS MiB | node req/s | node µs/req | node RSS MiB | body bytes hearth / node | req/s hearth ÷ node | CPU/req node ÷ hearth | RSS hearth ÷ node | target | met |"
	print "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"
	for (j = 1; j <= nw; j++) {
		w = W[j]
		line = "| " label(w) " |" cells("hearth", w) cells("node", w)
		hb = get("hearth", w, "bytes"); nb = get("node", w, "bytes"); same = get("node", w, "same")
		line = line " " (hb == "" ? "-" : commas(hb)) " / " (nb == "" ? "-" : commas(nb)) (same == "yes" ? " (same)" : "") " |"
		both = ok("hearth", w) && ok("node", w)
		line = line " " (both ? sprintf("%.2f×", get("hearth", w, "rps") / get("node", w, "rps")) : "-") " |"
		line = line " " (both && get("hearth", w, "cpu") + 0 > 0 ? sprintf("%.2f×", get("node", w, "cpu") / get("hearth", w, "cpu")) : "-") " |"
		line = line " " (both && get("node", w, "rss") + 0 > 0 ? sprintf("%.2f", get("hearth", w, "rss") / get("node", w, "rss")) : "-") " |"
		line = line " " target(w) " | " met(w) " |"
		print line
		# Was hearth the bottleneck? The share of its core it used.
		if (ok("hearth", w)) {
			u = get("hearth", w, "rps") * get("hearth", w, "cpu") / 1e6
			if (u < 0.85) notes = notes "\n- hearth, " w ": busy " sprintf("%.0f", u * 100) "% of its core: something else set the pace (the one wrk thread on core 0; for writes also the disk syncs of WAL checkpoints), so req/s is below its CPU capacity of about " commas(1e6 / get("hearth", w, "cpu")) " req/s (1 / CPU per request)"
		}
	}
	for (g = 1; g <= 2; g++) {
		k = g == 1 ? "-records" : "-te"
		for (i = 1; i <= 2; i++) {
			s = i == 1 ? "hearth" : "node"
			if (get(s, k, "skipped") != "") notes = notes "\n- " s " (" substr(k, 2) "): " get(s, k, "skipped")
		}
	}
	if (notes != "") { print ""; print "Notes:" notes }
}' "$results" >>"$tmp/report"
fi

if [ -n "$auth_ws" ]; then
	argon_v=""
	if [ -n "$NODE" ] && [ -d "$here/peers/node_modules/argon2" ]; then
		argon_v=$(cd "$here/peers" && "$NODE" -p "require('argon2/package.json').version" 2>/dev/null)
	fi
	{
		echo
		echo "## Users, sessions and access rules: hearth vs Node.js + fastify + better-sqlite3 + argon2"
		echo
		echo "- data: the auth collection \"members\" ($AUTH_USERS members) and \"notes\"" \
			"($AUTH_NOTES notes: title, ~200-character body, owner = a relation to members," \
			"created/updated; an index on owner; listRule \`owner = @request.auth.id\`), made" \
			"through hearth's collections and records API and bench/seed.c; Node.js serves a" \
			"copy of the same file. Every member's password hash is hearth's argon2id" \
			"(t=2, m=64 MiB, p=1: libsodium's INTERACTIVE limits)."
		echo "- auth_list: \`GET $NOTES_LIST_PATH\` with the token of member1 (got once by" \
			"logging in before the runs): the token checked (HS256, the member loaded), then" \
			"20 of that member's notes. auth_login: \`POST $LOGIN_PATH\` as a member drawn at" \
			"random; req/s = logins/s. health_during_login: a login storm (wrk -c$CONNECTIONS)" \
			"and, during the window, \`GET /api/health\` on one connection, a pause of" \
			"${HEALTH_PAUSE} ms after each answer; req/s and µs/req are the logins', the latency columns the" \
			"health checks' (median over runs of wrk's p50 / p99 / max)."
		echo "- hearth: \`hearth serve --workers 1\` (argon2id from libsodium on its thread pool," \
			"libuv's pool of 4 threads); node: bench/peers/node_auth.js, one process," \
			"argon2 ${argon_v:-?} (npm, on libuv's pool of 4 threads) for the hashes, node's" \
			"crypto for HS256. Both on core $SERVER_CPU with all their threads, so hashing and" \
			"the event loop share that one core; every wrk on core $CLIENT_CPU. Login runs:" \
			"the storm starts ${LOGIN_RAMP} s before the measured ${DURATION} s window; logins/s" \
			"is the rate of whole rounds of hashes in it (logins come in bursts), µs/login the" \
			"server's CPU per second over that rate; logins still queued when it ends are" \
			"worked off before the next run."
		echo
	} >>"$tmp/report"
	awk -F '\t' -v workloads="$auth_ws" -v foreign_limit=10 -v conns="$CONNECTIONS" '
function commas(x,    s, r) {
	s = sprintf("%.0f", x); r = ""
	while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
	return s r
}
function num(x) { return x < 100 ? sprintf("%.1f", x) : commas(x) }
function us(x) { return x < 10 ? sprintf("%.2f", x) : x < 100 ? sprintf("%.1f", x) : commas(x) }
function ms(x) { return x == "" ? "-" : x < 10 ? sprintf("%.2f", x) : x < 100 ? sprintf("%.1f", x) : commas(x) }
function mib(kib) { return sprintf("%.1f", kib / 1024) }
function get(s, w, k) { return ((s, w, k) in v) ? v[s, w, k] : "" }
function ok(s, w) { return get(s, w, "status") == "ok" }
function label(w) {
	if (w == "auth_list") return "list 20 own notes, token + rule"
	if (w == "auth_login") return "password login (argon2id)"
	if (w == "health_during_login") return "login storm, -c" conns ", with health checks"
	return w
}
function cells(s, w,    st, mark) {
	st = get(s, w, "status")
	if (st == "" && get(s, "-auth", "skipped") != "") return " skipped | | |"
	if (st == "") return " - | - | - |"
	if (st == "fail") { notes = notes "\n- " s ", " w ": failed (see build/bench/logs/)"; return " fail | - | - |" }
	mark = ""
	if (get(s, w, "err") + 0 > 0) { mark = " †"; notes = notes "\n- † " s ", " w ": " get(s, w, "err") " socket errors or non-2xx responses over all runs (see build/bench/logs/)" }
	if (get(s, w, "foreign") + 0 > foreign_limit) { mark = mark " ‡"; notes = notes "\n- ‡ " s ", " w ": in one run other processes (or VM steal) took " get(s, w, "foreign") "% of the server core: numbers disturbed" }
	return " " num(get(s, w, "rps")) mark " | " us(get(s, w, "cpu")) " | " mib(get(s, w, "rss")) " |"
}
{ v[$1, $2, $3] = $4 }
END {
	nw = split(workloads, W, " ")
	print "| workload | hearth req/s | hearth µs/req | hearth RSS MiB | node req/s | node µs/req | node RSS MiB | body bytes hearth / node | req/s hearth ÷ node | CPU/req node ÷ hearth | RSS hearth ÷ node |"
	print "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	for (j = 1; j <= nw; j++) {
		w = W[j]
		line = "| " label(w) " |" cells("hearth", w) cells("node", w)
		hb = get("hearth", w, "bytes"); nb = get("node", w, "bytes"); same = get("node", w, "same")
		line = line " " (hb == "" ? "-" : commas(hb)) " / " (nb == "" ? "-" : commas(nb)) (same == "yes" ? " (same)" : "") " |"
		both = ok("hearth", w) && ok("node", w)
		line = line " " (both ? sprintf("%.2f×", get("hearth", w, "rps") / get("node", w, "rps")) : "-") " |"
		line = line " " (both && get("hearth", w, "cpu") + 0 > 0 ? sprintf("%.2f×", get("node", w, "cpu") / get("hearth", w, "cpu")) : "-") " |"
		line = line " " (both && get("node", w, "rss") + 0 > 0 ? sprintf("%.2f", get("hearth", w, "rss") / get("node", w, "rss")) : "-") " |"
		print line
		if (w == "health_during_login") health = 1
	}
	if (health) {
		print ""
		print "| `GET /api/health` during the login storm | logins/s | health req/s | p50 ms | p99 ms | max ms |"
		print "| --- | ---: | ---: | ---: | ---: | ---: |"
		for (i = 1; i <= 2; i++) {
			s = i == 1 ? "hearth" : "node"; w = "health_during_login"
			if (!ok(s, w)) { print "| " s " | - | - | - | - | - |"; continue }
			print "| " s " | " num(get(s, w, "rps")) " | " num(get(s, w, "hrps")) " | " ms(get(s, w, "p50")) " | " ms(get(s, w, "p99")) " | " ms(get(s, w, "max")) " |"
		}
	}
	for (i = 1; i <= 2; i++) {
		s = i == 1 ? "hearth" : "node"
		if (get(s, "-auth", "skipped") != "") notes = notes "\n- " s " (auth): " get(s, "-auth", "skipped")
	}
	if (notes != "") { print ""; print "Notes:" notes }
}' "$results" >>"$tmp/report"
fi

if [ -n "$pb_ws" ]; then
	{
		echo
		echo "## PocketBase-shaped scenario (hearth alone, the whole machine)"
		echo
		echo "- hearth: \`hearth serve --workers 2\` on cores $SERVER_CPU and $CLIENT_CPU; wrk -t2 on" \
			"the same two cores (PocketBase's runs also shared their VM with the client);" \
			"a fresh copy of the $RECORDS-record data set. list: \`GET $PB_LIST_PATH\`" \
			"(storage order, as PocketBase's \"simpleC\" test); create: POST" \
			"bench/fixtures/post.json."
		echo "- PocketBase: its published figures for a 2-vCPU VM (Hetzner CAX11;" \
			"github.com/pocketbase/benchmarks, results/hetzner_cax11*.md), as the issue" \
			"quotes them: about $PB_REF_CREATE creates/s at concurrency 500 (\"Creating posts\"," \
			"50,000 requests) and about $PB_REF_LIST list requests/s at concurrency 1,000" \
			"(\"posts100k - simpleC\"). Other hardware, other client: a reference, not a" \
			"side-by-side measurement. Target: ${PB_TARGET_X}× them."
		echo
	} >>"$tmp/report"
	awk -F '\t' -v workloads="$pb_ws" -v lc="$PB_LIST_CONNECTIONS" -v cc="$PB_CREATE_CONNECTIONS" \
		-v rl="$PB_REF_LIST" -v rc="$PB_REF_CREATE" -v tx="$PB_TARGET_X" -v n="$RECORDS" '
function commas(x,    s, r) {
	s = sprintf("%.0f", x); r = ""
	while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
	return s r
}
function us(x) { return x < 10 ? sprintf("%.2f", x) : x < 100 ? sprintf("%.1f", x) : sprintf("%.0f", x) }
function mib(kib) { return sprintf("%.1f", kib / 1024) }
function get(s, w, k) { return ((s, w, k) in v) ? v[s, w, k] : "" }
{ v[$1, $2, $3] = $4 }
END {
	nw = split(workloads, W, " ")
	print "| scenario | wrk | hearth req/s | hearth µs/req | hearth RSS MiB | PocketBase req/s | hearth ÷ PocketBase | target | met |"
	print "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
	for (j = 1; j <= nw; j++) {
		w = W[j]
		if (w == "pb_list") { lab = "list 20 of " commas(n) " posts, skipTotal"; c = lc; ref = rl }
		else { lab = "create one post"; c = cc; ref = rc }
		st = get("hearth", w, "status")
		if (st == "ok") {
			mark = get("hearth", w, "err") + 0 > 0 ? " †" : ""
			if (mark != "") notes = notes "\n- † " w ": " get("hearth", w, "err") " socket errors or non-2xx responses over all runs (see build/bench/logs/)"
			r = get("hearth", w, "rps") / ref
			cellv = commas(get("hearth", w, "rps")) mark " | " us(get("hearth", w, "cpu")) " | " mib(get("hearth", w, "rss"))
			rat = sprintf("%.1f×", r); m = r >= tx ? "yes" : "no"
		} else {
			cellv = (st == "fail" ? "fail" : get("hearth", "-pb", "skipped") != "" ? "skipped" : "-") " | - | -"
			rat = "-"; m = "-"
		}
		print "| " lab " | -t2 -c" c " | " cellv " | " commas(ref) " | " rat " | " commas(ref * tx) " | " m " |"
	}
	if (get("hearth", "-pb", "skipped") != "") notes = notes "\n- hearth (pb): " get("hearth", "-pb", "skipped")
	if (notes != "") { print ""; print "Notes:" notes }
}' "$results" >>"$tmp/report"
fi

cp "$tmp/report" "$out_dir/latest.md"
cat "$tmp/report"
say "bench: report in $out_dir/latest.md, raw runs in $runs_tsv, logs in $logs/"

# A missing peer is not a failure; hearth not running, or failing a cell, is.
if awk -F '\t' '$1 == "hearth" && (($2 ~ /^-/ && $3 == "skipped") ||
	($3 == "status" && $4 == "fail")) { bad = 1 } END { exit !bad }' "$results"; then
	say "bench: hearth did not complete every workload"
	exit 1
fi
