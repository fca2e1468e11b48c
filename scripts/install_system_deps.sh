#!/usr/bin/env bash
# Installs Debian's chromium, chromium-headless-shell (what rendered crawls run) and fonts-noto-cjk when
# missing; does nothing when all are present.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/lib/chromium/chromium-headless-shell ] || need+=(chromium-headless-shell)
# Captured first: with pipefail, `fc-list | grep -q` fails when grep stops reading early (SIGPIPE).
fonts=$(fc-list 2>/dev/null || true)
case "$fonts" in
  *"Noto Sans CJK"*) ;;
  *) need+=(fonts-noto-cjk) ;;
esac
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${need[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "error: need root or sudo to install ${need[*]}" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
