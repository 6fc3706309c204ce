"""The cleaning doubts a loaded record carries (`customer_sources.issues`, each `field:reason`)."""

from __future__ import annotations

from crm_etl.cleaners.codes import CODE_REASONS
from crm_etl.cleaners.dates import DATE_REASONS
from crm_etl.cleaners.emails import EMAIL_REASONS
from crm_etl.cleaners.lead_sources import LEAD_SOURCE_REASONS
from crm_etl.cleaners.lossy_numbers import ID_REASONS
from crm_etl.cleaners.persons import PERSON_REASONS
from crm_etl.cleaners.phones import PHONE_REASONS

# cleaners/rows.py: a placeholder number (13800138000) on a row a company identifies.
PLACEHOLDER_PHONE_REASONS: frozenset[str] = frozenset({"phone_placeholder_number"})

# Every reason clean_customers (cleaners/records.py) can put after `field:`; each has its words in
# reports/templates/messages.yaml `reasons` (tests/cleaners/test_issues.py checks that).
ISSUE_REASONS: frozenset[str] = (
    PHONE_REASONS
    | PLACEHOLDER_PHONE_REASONS
    | EMAIL_REASONS
    | DATE_REASONS
    | PERSON_REASONS
    | CODE_REASONS
    | LEAD_SOURCE_REASONS
    | ID_REASONS
)
