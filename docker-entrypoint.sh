#!/bin/sh
# Bring the database schema up to date, then become the command (ccmbot run by default).
set -e
ccmbot db upgrade
exec "$@"
