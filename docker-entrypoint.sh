#!/bin/sh
# Bring the database schema up to date, then become the command (ccmbot run by default).
# CCMBOT_MIGRATE=no skips the upgrade where a one-shot migration service ran it first.
set -e
if [ "${CCMBOT_MIGRATE:-yes}" != "no" ]; then
  ccmbot db upgrade
fi
exec "$@"
