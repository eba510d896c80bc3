#!/usr/bin/env bash
# System packages the tests and benchmarks use, from Debian's archive:
#   chromium      renderer end-to-end tests (playwright-core drives /usr/bin/chromium)
#   age           benchmark peer
#   gnome-keyring Secret Service for the OS keychain tests (with dbus, already in the base image)
#   xvfb xauth    headed runs of the desktop shell where an Electron binary exists
set -euo pipefail
need=()
for pkg in chromium age gnome-keyring xvfb xauth; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
