#!/usr/bin/env bash
# Runs once, when the Postgres container initialises its data folder: the Kefu roles and database.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v owner_password="$KEFU_OWNER_PASSWORD" -v app_password="$KEFU_APP_PASSWORD" \
    -v events_password="$KEFU_EVENTS_PASSWORD" -v platform_password="$KEFU_PLATFORM_PASSWORD" -v database=kefu \
    -f /kefu/bootstrap.sql
