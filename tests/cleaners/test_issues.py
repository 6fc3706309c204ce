import pytest

from crm_etl.cleaners.issues import ISSUE_REASONS
from crm_etl.flows.texts import LANGUAGES, messages


@pytest.mark.parametrize("reason", sorted(ISSUE_REASONS))
def test_every_cleaning_doubt_has_words_in_every_language(reason):
    # A worklist shows the rep these words, never the code.
    words = messages()["reasons"].get(reason)
    assert words is not None, f"reports/templates/messages.yaml reasons: no {reason}"
    assert all(words[lang].strip() and words[lang] != reason for lang in LANGUAGES)


def test_the_reasons_cover_every_cleaner_that_flags_a_customer_field():
    assert {
        "email_domain_typo",
        "phone_lossy_number",
        "phone_placeholder_number",
        "industry_unmapped",
    } <= ISSUE_REASONS
    assert {
        "date_ambiguous_dmy",
        "person_not_a_name",
        "source_channel_unknown",
        "id_lossy_number",
    } <= ISSUE_REASONS
