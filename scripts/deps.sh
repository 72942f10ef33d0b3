#!/bin/sh
# scripts/deps.sh [run|test|bench] - installs the Debian 12 packages hearth needs
# for that purpose, non-interactively, when they are missing. Idempotent: with
# everything present it runs no apt command at all. Needs root (or sudo).
set -eu
purpose=${1:-run}

# Build and run: compiler, pkg-config and the -dev packages of our libraries.
pkgs="gcc make pkg-config libuv1-dev zlib1g-dev libsodium-dev libsqlite3-dev libpcre2-dev libcurl4-openssl-dev"
case "$purpose" in
run) ;;
test) pkgs="$pkgs clang libclang-rt-14-dev curl" ;;
bench) pkgs="$pkgs curl wrk nginx-light" ;;
*) echo "usage: $0 [run|test|bench]" >&2; exit 2 ;;
esac

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# Node.js runs the integration tests and the bench peers; any version >= 18 will do,
# including one installed outside Debian's packages.
if [ "$purpose" != run ] && ! command -v node >/dev/null 2>&1; then
	missing="$missing nodejs"
fi
if [ "$purpose" = test ] && ! command -v npm >/dev/null 2>&1; then
	missing="$missing npm"
fi
npm_tests() {
	# The integration tests' npm packages (the PocketBase SDK), from the lock file.
	if [ "$purpose" = test ] && [ ! -d "$(dirname "$0")/../tests/node_modules/pocketbase" ]; then
		(cd "$(dirname "$0")/../tests" && npm ci --no-audit --no-fund --loglevel=error)
	fi
}
if [ -z "$missing" ]; then
	npm_tests
	exit 0
fi

echo "hearth: installing missing Debian packages:$missing"
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
		echo "hearth: run as root, or install:$missing" >&2
		exit 1
	fi
else
	SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1 || {
	$SUDO apt-get update -q >/dev/null
	$SUDO apt-get install -y -q --no-install-recommends $missing
}
# Debian starts nginx when it is installed; the benchmark runs its own.
if echo "$missing" | grep -q nginx; then
	$SUDO sh -c 'command -v systemctl >/dev/null && systemctl stop nginx 2>/dev/null; pkill -x nginx 2>/dev/null' || true
fi
npm_tests
