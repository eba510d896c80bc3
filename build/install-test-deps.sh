#!/usr/bin/env bash
# System packages the tests and benchmarks use, from Debian's archive:
#   chromium      renderer end-to-end tests (playwright-core drives /usr/bin/chromium)
#   age rclone    benchmark peers (`npm run bench`, `npm run bench:sync`; the AWS CLI v1 is the other, from pip)
#   gnome-keyring Secret Service for the OS keychain tests (with dbus, already in the base image)
#   xvfb xauth    headed runs of the desktop shell where an Electron binary exists
set -euo pipefail
need=()
for pkg in chromium age rclone gnome-keyring xvfb xauth; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# moto: an S3 emulator written by others; the sync integration tests run against it as well as s3rver
# (test/support/moto.ts). It is a Python program. Debian 12 (bookworm) has no python3-moto package, so a newer
# Debian's package is used where apt offers one; otherwise install it from PyPI on a machine that can reach it
# (`pip install 'moto[server]==5.2.1'`), or point KENV_MOTO_SERVER at a moto_server binary.
moto_bin="${KENV_MOTO_SERVER:-moto_server}"
if ! command -v "$moto_bin" >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  if apt-cache policy python3-moto 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-moto python3-flask python3-flask-cors
  fi
  if ! command -v "$moto_bin" >/dev/null 2>&1; then
    echo "install-test-deps: moto_server is missing and apt has no python3-moto package here." >&2
    echo "  The sync integration tests need it. Install moto 5 (pip install 'moto[server]==5.2.1')," >&2
    echo "  or set KENV_MOTO_SERVER to a moto_server binary, then run this script again." >&2
    exit 1
  fi
fi
"$moto_bin" --help >/dev/null
