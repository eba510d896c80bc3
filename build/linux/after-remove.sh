#!/bin/sh
set -e
XML="/usr/share/mime/packages/kenv-mime.xml"
if [ -f "$XML" ]; then rm -f "$XML"; fi
if command -v update-mime-database >/dev/null 2>&1; then update-mime-database /usr/share/mime || true; fi
if command -v update-desktop-database >/dev/null 2>&1; then update-desktop-database -q /usr/share/applications || true; fi
