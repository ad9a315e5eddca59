"""The live session benchmark command runs and reports each figure (seed 003 at scale)."""

from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_bench_sessions_prints_publish_and_page_times_with_query_counts(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    out = StringIO()
    call_command("bench_sessions", learners=30, repeat=1, stdout=out)
    text = out.getvalue()
    assert "Publish: 30 learners invited" in text
    assert "Admin session page (Session Learners card)" in text
    assert "Save the attendance form: 30 marked attended" in text
    assert "Publish confirmation page" in text and "Cancel confirmation page" in text
    assert text.count(" queries") == 9
