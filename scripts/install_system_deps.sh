#!/usr/bin/env bash
# Installs what the demo and the tests need from Debian when it is missing, and does nothing (quietly)
# when all is present:
# - chromium, chromium-headless-shell (what rendered crawls run) and fonts-noto-cjk (screenshots);
# - postgresql (the tests start throwaway servers from its binaries, tests/pg.py; no service is used)
#   and redis-server (throwaway Redis servers for the shared crawl frontier's tests);
# - the system user `wangxun-test` (no login shell, no home), as whom the tests run their PostgreSQL
#   servers when they run as root, since initdb and pg_ctl refuse to run as root.
set -euo pipefail
TEST_USER=wangxun-test
need=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/lib/chromium/chromium-headless-shell ] || need+=(chromium-headless-shell)
# Captured first: with pipefail, `fc-list | grep -q` fails when grep stops reading early (SIGPIPE).
fonts=$(fc-list 2>/dev/null || true)
case "$fonts" in
  *"Noto Sans CJK"*) ;;
  *) need+=(fonts-noto-cjk) ;;
esac
# Debian keeps the server binaries off PATH, one directory per major version.
compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null || command -v pg_ctl >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || need+=(redis-server)
need_user=0
id -u "$TEST_USER" >/dev/null 2>&1 || need_user=1
[ ${#need[@]} -eq 0 ] && [ $need_user -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  what="${need[*]:-}"
  [ $need_user -eq 1 ] && what="$what (and create the user $TEST_USER)"
  command -v sudo >/dev/null 2>&1 || { echo "error: need root or sudo to install $what" >&2; exit 1; }
  SUDO=sudo
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if [ $need_user -eq 1 ]; then
  echo "creating the system user $TEST_USER (runs the tests' throwaway PostgreSQL servers)"
  $SUDO useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$TEST_USER"
fi
