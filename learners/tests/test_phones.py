"""Phone numbers (CONTRACT: Learner.phone and Guardian.phone are E.164 or blank): typed as people dial them,
read in the organisation's region, stored E.164; a number no network can reach is refused in words."""

import pytest
from django.forms import modelform_factory

from learners.models import Guardian, Learner

pytestmark = pytest.mark.django_db

LearnerForm = modelform_factory(Learner, fields=["email", "first_name", "last_name", "phone", "language", "timezone"])


def learner_form(phone):
    return LearnerForm(
        data={
            "email": "ada@example.com",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "phone": phone,
            "language": "fr",
            "timezone": "Europe/Paris",
        }
    )


@pytest.mark.parametrize("typed", ["06 12 34 56 78", "06.12.34.56.78", "+33 6 12 34 56 78", "0033612345678"])
def test_a_french_number_typed_as_people_dial_it_is_stored_in_international_form(typed):
    form = learner_form(typed)

    assert form.is_valid(), form.errors
    assert form.save().phone == "+33612345678"


def test_a_national_number_is_read_in_the_organisations_region(settings):
    settings.PHONE_DEFAULT_REGION = "PL"

    form = learner_form("512 345 678")

    assert form.is_valid(), form.errors
    assert form.save().phone == "+48512345678"


@pytest.mark.parametrize("typed", ["+33 0 00 00 00 00", "+1 555 0100", "12", "call me"])
def test_an_impossible_number_is_refused_with_a_clear_error_and_nothing_is_saved(typed):
    form = learner_form(typed)

    assert not form.is_valid()
    [error] = form.errors["phone"]
    assert typed in error and ("phone network" in error or "not a phone number" in error)
    assert not Learner.objects.exists()


def test_a_blank_number_stays_blank():
    form = learner_form("  ")

    assert form.is_valid(), form.errors
    assert form.save().phone == ""


def test_numbers_written_by_code_without_a_form_are_stored_in_international_form_too():
    learner = Learner.objects.create(email="b@example.com", first_name="B", last_name="C", phone="06 12 34 56 78")
    guardian = Guardian.objects.create(learner=learner, name="Parent", phone="07 98 76 54 32")

    learner.refresh_from_db()
    guardian.refresh_from_db()
    assert (learner.phone, guardian.phone) == ("+33612345678", "+33798765432")


def test_the_model_refuses_an_impossible_number_on_full_clean():
    from django.core.exceptions import ValidationError

    learner = Learner(email="c@example.com", first_name="C", last_name="D", phone="+33000000000")

    with pytest.raises(ValidationError) as refused:
        learner.full_clean()
    assert "phone" in refused.value.message_dict
