#!/bin/sh
# Registers application/x-kenv with shared-mime-info so file managers know .kenv files and offer Kenv to open them.
set -e
XML="/opt/Kenv/resources/mime/kenv-mime.xml"
if command -v xdg-mime >/dev/null 2>&1 && [ -f "$XML" ]; then
  xdg-mime install --mode system --novendor "$XML" || true
fi
if command -v update-mime-database >/dev/null 2>&1; then update-mime-database /usr/share/mime || true; fi
if command -v update-desktop-database >/dev/null 2>&1; then update-desktop-database -q /usr/share/applications || true; fi
