#!/bin/sh
# bench/run.sh - `make bench`: hearth side by side with nginx, Node.js and the
# ceiling server, on one machine, in one run. See bench/README.md.
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
# Environment (all optional):
#   BENCH_SERVERS     hearth nginx node ceiling    (subset, any order)
#   BENCH_WORKLOADS   plaintext pipelined json static4k static1m idle
#   BENCH_DURATION    seconds per wrk run (10)       BENCH_RUNS   runs per cell (3)
#   BENCH_WARMUP      seconds of unmeasured wrk before each cell (1; 0 = none)
#   BENCH_CONNECTIONS wrk connections (64)         BENCH_PIPELINE_DEPTH (16)
#   BENCH_IDLE_CONNS  idle connections (10000)     BENCH_IDLE_HOLD  seconds held (3)
#   BENCH_SERVER_CPU / BENCH_CLIENT_CPU  cores to pin to (1 / 0)
#   BENCH_PORT_BASE   first of four loopback ports (18081)
#   BENCH_LIMIT_SRC, BENCH_PIPELINE_LUA  the ceiling server and wrk's
#                     pipelining script (default /work/shared/bench/...)
#   BENCH_HEARTH_BIN  a prebuilt hearth-bench to measure instead of running
#                     `make build/hearth-bench` (to compare two builds)
#
# Output: the report on stdout and in build/bench/latest.md, every run's raw
# numbers in build/bench/runs.tsv, wrk outputs and server logs in
# build/bench/logs/. Progress goes to stderr. Nothing outside build/bench/ and
# a temp dir (removed on exit) is written. Exit status: 0, or 1 when hearth
# was selected and did not complete every workload (a missing peer is only
# noted), or when the setup is unusable (no wrk, bad settings).
#
# Deliberately not here: HTTPS, HTTP/2, multi-core scaling, latency
# percentiles (wrk on one shared-nothing core measures throughput and CPU
# cost honestly; its latency numbers at saturation mostly measure queueing).

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
WORKLOADS=${BENCH_WORKLOADS:-plaintext pipelined json static4k static1m idle}
SERVER_CPU=${BENCH_SERVER_CPU:-1}
CLIENT_CPU=${BENCH_CLIENT_CPU:-0}
PORT_BASE=${BENCH_PORT_BASE:-18081}
LIMIT_SRC=${BENCH_LIMIT_SRC:-/work/shared/bench/limit.c}
PIPELINE_LUA=${BENCH_PIPELINE_LUA:-/work/shared/bench/pipeline.lua}
HEARTH_BIN=${BENCH_HEARTH_BIN:-}

ALL_SERVERS="hearth nginx node ceiling"
ALL_WORKLOADS="plaintext pipelined json static4k static1m idle"

say() { printf '%s\n' "$*" >&2; }
die() { say "bench: $*"; exit 1; }

# ---- Arguments and tools ----

for v in DURATION RUNS WARMUP CONNECTIONS PIPELINE_DEPTH IDLE_CONNS IDLE_HOLD SERVER_CPU CLIENT_CPU PORT_BASE; do
	eval "x=\${$v}"
	# shellcheck disable=SC2154 # x is set by the eval
	case $x in
	'' | *[!0-9]*) die "BENCH_$v must be a whole number, got '$x'" ;;
	esac
done
[ "$DURATION" -ge 1 ] || die "BENCH_DURATION must be at least 1"
[ "$RUNS" -ge 1 ] || die "BENCH_RUNS must be at least 1"
[ "$CONNECTIONS" -ge 1 ] || die "BENCH_CONNECTIONS must be at least 1"
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
printf 'server\tworkload\trun\trequests\treq_per_s\tcpu_us_per_req\terrors\tbytes_per_resp\tforeign_pct\n' \
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
	esac
}

# Which workloads a server can run (the ceiling answers anything with a
# canned body: no files, and the idle test is not its purpose).
supports() {
	case $1:$2 in
	ceiling:plaintext | ceiling:pipelined | ceiling:json) return 0 ;;
	ceiling:*) return 1 ;;
	*) return 0 ;;
	esac
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

# Prepares server $1 (build, config). On failure sets why and returns 1, and
# the server is skipped.
prepare() {
	case $1 in
	hearth)
		if [ -n "$HEARTH_BIN" ]; then
			if [ ! -x "$HEARTH_BIN" ]; then
				why="BENCH_HEARTH_BIN=$HEARTH_BIN is not an executable"
				return 1
			fi
		elif make -C "$root" build/hearth-bench >"$logs/hearth-build.log" 2>&1; then
			HEARTH_BIN=$root/build/hearth-bench
		else
			# Never measure a stale binary left by an earlier build.
			why="build/hearth-bench does not build (see build/bench/logs/hearth-build.log)"
			return 1
		fi
		;;
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

# Starts server $1 on its port, pinned to SERVER_CPU; sets spid.
start() {
	port=$(port_of "$1")
	log=$logs/$1.log
	case $1 in
	hearth)
		taskset -c "$SERVER_CPU" "$HEARTH_BIN" --http "127.0.0.1:$port" \
			--workers 1 --public "$tmp/public" --dir "$tmp/hearth_data" --quiet \
			>"$log" 2>&1 &
		;;
	nginx)
		taskset -c "$SERVER_CPU" "$NGINX" -p "$tmp/nginx/" -c "$tmp/nginx/nginx.conf" \
			-g 'daemon off;' >"$log" 2>&1 &
		;;
	node)
		taskset -c "$SERVER_CPU" "$NODE" "$here/peers/node_http.js" "$port" "$tmp/public" \
			>"$log" 2>&1 &
		;;
	ceiling)
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

# Waits until port $2 answers HTTP, while pid $1 lives; at most 10 s.
wait_ready() {
	i=0
	while [ $i -lt 100 ]; do
		alive "$1" || return 1
		curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$2/plaintext" && return 0
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
wrk_run() {
	o=$1 secs=$2 w=$3 port=$4
	base=http://127.0.0.1:$port
	set -- taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNECTIONS" -d"${secs}s" --timeout 10s
	case $w in
	plaintext) set -- "$@" "$base/plaintext" ;;
	pipelined) set -- "$@" -s "$PIPELINE_LUA" "$base" -- /plaintext "$PIPELINE_DEPTH" ;;
	json) set -- "$@" "$base/json" ;;
	static4k) set -- "$@" "$base/4k.bin" ;;
	static1m) set -- "$@" "$base/1m.bin" ;;
	esac
	printf '%s\n' "$*" >"$o"
	timeout --foreground -k 5 $((secs + 30)) "$@" >>"$o" 2>&1
}

# Checks that server $1 answers workload $2 correctly before timing it.
verify() {
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

# bench_wrk SERVER WORKLOAD PID...: warm-up, RUNS timed runs, medians.
bench_wrk() {
	name=$1 w=$2
	shift 2
	port=$(port_of "$name")
	if ! verify "$name" "$w"; then
		put "$name" "$w" status fail
		return
	fi
	reset_peak "$@" || put "$name" "$w" peak cumulative
	if [ "$WARMUP" -gt 0 ]; then
		wrk_run "$logs/$name-$w-warmup.txt" "$WARMUP" "$w" "$port"
	fi
	rpss="" cpus="" errs=0 foreign_max=0
	r=1
	while [ "$r" -le "$RUNS" ]; do
		o=$logs/$name-$w-$r.txt
		k0=$(core_ticks "$SERVER_CPU")
		c0=$(proc_sum cpu "$@")
		wrk_run "$o" "$DURATION" "$w" "$port"
		rc=$?
		c1=$(proc_sum cpu "$@")
		k1=$(core_ticks "$SERVER_CPU")
		fp=$(foreign_pct "$k0" "$k1" "$((c1 - c0))")
		[ "$fp" -gt "$foreign_max" ] && foreign_max=$fp
		reqs=$(awk '/ requests in / { print $1; exit }' "$o")
		rps=$(awk '/^Requests\/sec:/ { print $2; exit }' "$o")
		e=$(awk '/Socket errors:/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 }
			/Non-2xx or 3xx responses:/ { n += $NF } END { print n + 0 }' "$o")
		if [ $rc -ne 0 ] || [ -z "$reqs" ] || [ -z "$rps" ] || [ "$reqs" -eq 0 ]; then
			say "bench: $name $w run $r: wrk failed (exit $rc); see $o"
			put "$name" "$w" status fail
			return
		fi
		cpu=$(awk -v t="$((c1 - c0))" -v hz="$CLK_TCK" -v n="$reqs" \
			'BEGIN { printf "%.3f", t / hz * 1e6 / n }')
		# "N requests in 2.00s, 2.92GB read": a sanity check of response sizes.
		bpr=$(awk -v n="$reqs" '/ requests in / { x = $(NF - 1); u = x; sub(/^[0-9.]+/, "", u)
			m = u == "KB" ? 1024 : u == "MB" ? 1048576 : u == "GB" ? 1073741824 : 1
			printf "%.0f", (x + 0) * m / n; exit }' "$o")
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$w" "$r" "$reqs" "$rps" "$cpu" \
			"$e" "$bpr" "$fp" >>"$runs_tsv"
		say "  $name $w run $r/$RUNS: $rps req/s, $cpu µs CPU/req, $e errors," \
			"$fp% of core $SERVER_CPU used by others"
		rpss="$rpss $rps" cpus="$cpus $cpu" errs=$((errs + e))
		r=$((r + 1))
	done
	# shellcheck disable=SC2086
	put "$name" "$w" rps "$(median $rpss)"
	# shellcheck disable=SC2086
	put "$name" "$w" cpu "$(median $cpus)"
	put "$name" "$w" rss "$(proc_sum hwm "$@")"
	put "$name" "$w" err "$errs"
	put "$name" "$w" foreign "$foreign_max"
	put "$name" "$w" status ok
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

ran=""
for name in $SERVERS; do
	say "== $name"
	why=""
	prepare "$name" || {
		say "bench: $name: skipped: $why"
		put "$name" - skipped "skipped: $why"
		ran="$ran $name"
		continue
	}
	port=$(port_of "$name")
	if port_in_use "$port"; then
		say "bench: $name: port $port is already in use; skipped (set BENCH_PORT_BASE)"
		put "$name" - skipped "skipped: port $port was already in use"
		ran="$ran $name"
		continue
	fi
	start "$name"
	if ! wait_ready "$spid" "$port"; then
		say "bench: $name: did not answer on port $port within 10 s; skipped (see $logs/$name.log)"
		stop_pids "$spid"
		put "$name" - skipped "skipped: did not answer on port $port (see build/bench/logs/$name.log)"
		ran="$ran $name"
		continue
	fi
	sleep 0.3 # let nginx's worker come up before collecting pids
	pids=$(pids_of "$spid")
	ran="$ran $name"
	for w in $WORKLOADS; do
		supports "$name" "$w" || continue
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
			say "bench: $name died during $w (see $logs/$name.log)"
			put "$name" - skipped "died during $w (see build/bench/logs/$name.log)"
			break
		}
	done
	stop_pids "$spid"
done

# ---- The report ----

cpu_model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
wrk_v=$(wrk -v 2>&1 | awk 'NR == 1 { print $2 }')
nginx_v=$([ -n "$NGINX" ] && "$NGINX" -v 2>&1 | sed 's/^nginx version: //')
node_v=$([ -n "$NODE" ] && "$NODE" --version 2>/dev/null)
cc_v=$(cc --version 2>/dev/null | head -n 1)
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo "no commit")

{
	echo "# hearth benchmark"
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); tree: $commit"
	echo "- command: \`$cmdline\`"
	echo "- machine: nproc $(nproc), $cpu_model, $mem RAM, $(uname -srm)"
	echo "- tools: wrk ${wrk_v:-?}, ${nginx_v:-nginx absent}, node ${node_v:-absent}, $cc_v"
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

awk -F '\t' -v foreign_limit=10 -v servers="$ran" -v workloads="$WORKLOADS" -v depth="$PIPELINE_DEPTH" -v idle_n="$IDLE_CONNS" '
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

cp "$tmp/report" "$out_dir/latest.md"
cat "$tmp/report"
say "bench: report in $out_dir/latest.md, raw runs in $runs_tsv, logs in $logs/"

# A missing peer is not a failure; hearth not running, or failing a cell, is.
if awk -F '\t' '$1 == "hearth" && (($2 == "-" && $3 == "skipped") ||
	($3 == "status" && $4 == "fail")) { bad = 1 } END { exit !bad }' "$results"; then
	say "bench: hearth did not complete every workload"
	exit 1
fi
