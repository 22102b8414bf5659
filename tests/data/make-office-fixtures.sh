#!/usr/bin/env bash
# Re-makes the XLS and ODS fixtures from employees.xlsx with LibreOffice (real spreadsheet
# software, as the tests require). Needs `apt-get install libreoffice-calc`; not run by CI:
# the outputs are committed.
set -euo pipefail
cd "$(dirname "$0")"
for fmt in xls ods; do
  soffice --headless --calc --convert-to "$fmt" --outdir . employees.xlsx
done
