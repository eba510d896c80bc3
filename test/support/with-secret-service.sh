#!/usr/bin/env bash
# Runs a command with a private, unlocked Secret Service: gnome-keyring-daemon on its own session D-Bus, with its
# keyrings in a temp folder, so the OS keychain tests exercise the real thing and never touch the user's keyring.
#
#   bash test/support/with-secret-service.sh vitest run
#
# gnome-keyring comes from build/install-test-deps.sh; dbus-run-session from the base image.
set -euo pipefail
if [ "$#" -eq 0 ]; then
  echo "usage: $0 COMMAND [ARGS...]" >&2
  exit 2
fi
for tool in dbus-run-session gnome-keyring-daemon; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "with-secret-service: $tool is missing; run: bash build/install-test-deps.sh" >&2
    exit 1
  fi
done

tmp="$(mktemp -d "${TMPDIR:-/tmp}/kenv-secret-service.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/home" "$tmp/runtime"
chmod 700 "$tmp/runtime"
export KENV_SECRET_SERVICE_HOME="$tmp/home"
export XDG_RUNTIME_DIR="$tmp/runtime"

# The daemon gets the temp HOME (its keyrings live there); the command keeps the caller's HOME. It runs in the
# foreground so that this script knows its PID and stops it afterwards (a daemonized one can outlive the bus), and
# the command starts only once org.freedesktop.secrets is on the bus. "Failed to set fd limit" from dbus is harmless.
set +e
dbus-run-session -- bash -c '
  printf kenv-test | HOME="$KENV_SECRET_SERVICE_HOME" XDG_DATA_HOME="$KENV_SECRET_SERVICE_HOME/.local/share" \
    gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null 2>&1 &
  keyring_pid=$!
  trap "kill $keyring_pid 2>/dev/null; wait $keyring_pid 2>/dev/null" EXIT
  for _ in $(seq 1 100); do
    if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q "boolean true"; then
      "$@"
      exit $?
    fi
    kill -0 "$keyring_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "with-secret-service: gnome-keyring-daemon did not offer org.freedesktop.secrets on the session bus" >&2
  exit 1
' with-secret-service "$@"
status=$?
set -e
exit "$status"
