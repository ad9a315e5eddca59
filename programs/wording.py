"""Built-in words of the program and certification events (seed 001), in en, fr and pl.

Registered in the notifications catalogue at start-up; an administrator's
MessageTemplate still wins. Templates read plain values (notifications.variables):
learner {first_name, last_name, full_name}, program (its title), course_set
{title, due_at}, the dates due_at, expires_at, completed_at, and what the date
triggers add: window_opens_at, timing (before, on_event, after), days and
dashboard_url.
"""

from datetime import timedelta

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from notifications.catalogue import register
from notifications.variables import offer

# What the date triggers (programs.scanners) pass besides the names every program event offers.
_DATE_VALUES = {
    "timing": "before",
    "days": 3,
    "window_opens_at": lambda now: now + timedelta(days=15),
    "dashboard_url": lambda now: f"{settings.SITE_URL}/",
}
_DATE_DESCRIPTIONS = {
    "timing": _("When the rule fires: before, on_event or after the date."),
    "days": _("How many days before or after the date the rule fires."),
    "window_opens_at": _("When the recertification window opens."),
    "dashboard_url": _("Link to the learner's training dashboard."),
}
for _event in (
    "program.completed",
    "program.course_set_completed",
    "program.course_set_due",
    "program.due",
    "certification.expiry",
    "certification.window_open",
    "certification.recertification_failed",
):
    offer(_event, samples=_DATE_VALUES, descriptions=_DATE_DESCRIPTIONS)

_D = '|date:"j F Y"'
_PL_D = '|date:"j E Y"'

_WORDING = {
    ("program.completed", "en"): (
        "Congratulations: {{ program }} completed",
        'Hello {{ learner.first_name }},\n\nCongratulations, you have completed "{{ program }}"'
        "{% if completed_at %} on {{ completed_at" + _D + " }}{% endif %}.",
    ),
    ("program.completed", "fr"): (
        "Félicitations : {{ program }} terminé",
        "Bonjour {{ learner.first_name }},\n\nFélicitations, vous avez terminé « {{ program }} »"
        "{% if completed_at %} le {{ completed_at" + _D + " }}{% endif %}.",
    ),
    ("program.completed", "pl"): (
        "Gratulacje: ukończono {{ program }}",
        "Dzień dobry {{ learner.first_name }},\n\nGratulacje, ukończyłeś(-aś) „{{ program }}”"
        "{% if completed_at %} {{ completed_at" + _PL_D + " }}{% endif %}.",
    ),
    ("program.course_set_completed", "en"): (
        "Course set completed: {{ course_set.title }}",
        'Hello {{ learner.first_name }},\n\nWell done: you have completed "{{ course_set.title }}" of "{{ program }}".',
    ),
    ("program.course_set_completed", "fr"): (
        "Module terminé : {{ course_set.title }}",
        "Bonjour {{ learner.first_name }},\n\nBravo : vous avez terminé « {{ course_set.title }} » de "
        "« {{ program }} ».",
    ),
    ("program.course_set_completed", "pl"): (
        "Ukończono moduł: {{ course_set.title }}",
        "Dzień dobry {{ learner.first_name }},\n\nBrawo: ukończyłeś(-aś) „{{ course_set.title }}” w „{{ program }}”.",
    ),
    ("program.course_set_due", "en"): (
        "Due date: {{ course_set.title }} ({{ program }})",
        'Hello {{ learner.first_name }},\n\n"{{ course_set.title }}" of "{{ program }}" '
        "{% if timing == 'after' %}was due on{% else %}is due on{% endif %} {{ course_set.due_at" + _D + " }} "
        "and is not completed yet.\n\n{{ dashboard_url }}",
    ),
    ("program.course_set_due", "fr"): (
        "Échéance : {{ course_set.title }} ({{ program }})",
        "Bonjour {{ learner.first_name }},\n\n« {{ course_set.title }} » de « {{ program }} » "
        "{% if timing == 'after' %}devait être terminé le{% else %}est à terminer pour le{% endif %} "
        "{{ course_set.due_at" + _D + " }} et n'est pas encore terminé.\n\n{{ dashboard_url }}",
    ),
    ("program.course_set_due", "pl"): (
        "Termin: {{ course_set.title }} ({{ program }})",
        "Dzień dobry {{ learner.first_name }},\n\nTermin ukończenia „{{ course_set.title }}” w "
        "„{{ program }}” {% if timing == 'after' %}upłynął{% else %}upływa{% endif %} "
        "{{ course_set.due_at" + _PL_D + " }}, a moduł nie jest jeszcze ukończony.\n\n{{ dashboard_url }}",
    ),
    ("program.due", "en"): (
        "Due date: {{ program }}",
        'Hello {{ learner.first_name }},\n\n"{{ program }}" '
        "{% if timing == 'after' %}was due on{% else %}is due on{% endif %} {{ due_at" + _D + " }} "
        "and is not completed yet. Please finish it{% if timing != 'after' %} in time{% endif %}."
        "\n\n{{ dashboard_url }}",
    ),
    ("program.due", "fr"): (
        "Échéance : {{ program }}",
        "Bonjour {{ learner.first_name }},\n\n« {{ program }} » "
        "{% if timing == 'after' %}devait être terminé le{% else %}arrive à échéance le{% endif %} "
        "{{ due_at" + _D + " }} et n'est pas encore terminé. Merci de le terminer.\n\n{{ dashboard_url }}",
    ),
    ("program.due", "pl"): (
        "Termin: {{ program }}",
        "Dzień dobry {{ learner.first_name }},\n\nTermin ukończenia „{{ program }}” "
        "{% if timing == 'after' %}upłynął{% else %}upływa{% endif %} {{ due_at" + _PL_D + " }}, a szkolenie "
        "nie jest jeszcze ukończone. Prosimy o jego ukończenie.\n\n{{ dashboard_url }}",
    ),
    ("certification.expiry", "en"): (
        "Your certification {{ program }} expires soon",
        'Hello {{ learner.first_name }},\n\nYour certification "{{ program }}" expires on '
        "{{ expires_at" + _D + " }}. Recertify before that date to keep it valid.\n\n{{ dashboard_url }}",
    ),
    ("certification.expiry", "fr"): (
        "Votre certification {{ program }} expire bientôt",
        "Bonjour {{ learner.first_name }},\n\nVotre certification « {{ program }} » expire le "
        "{{ expires_at" + _D + " }}. Repassez-la avant cette date pour qu'elle reste valide.\n\n{{ dashboard_url }}",
    ),
    ("certification.expiry", "pl"): (
        "Twój certyfikat {{ program }} wkrótce wygaśnie",
        "Dzień dobry {{ learner.first_name }},\n\nTwój certyfikat „{{ program }}” wygasa "
        "{{ expires_at" + _PL_D + " }}. Przejdź recertyfikację przed tą datą.\n\n{{ dashboard_url }}",
    ),
    ("certification.window_open", "en"): (
        "Recertification: {{ program }}",
        'Hello {{ learner.first_name }},\n\nThe recertification window of "{{ program }}" '
        "{% if timing == 'before' %}opens on{% else %}opened on{% endif %} {{ window_opens_at" + _D + " }}; "
        "your certification expires on {{ expires_at" + _D + " }}. Recertify in time to keep it valid."
        "\n\n{{ dashboard_url }}",
    ),
    ("certification.window_open", "fr"): (
        "Recertification : {{ program }}",
        "Bonjour {{ learner.first_name }},\n\nLa période de recertification de « {{ program }} » "
        "{% if timing == 'before' %}ouvre le{% else %}est ouverte depuis le{% endif %} "
        "{{ window_opens_at" + _D + " }} ; votre certification expire le {{ expires_at" + _D + " }}."
        "\n\n{{ dashboard_url }}",
    ),
    ("certification.window_open", "pl"): (
        "Recertyfikacja: {{ program }}",
        "Dzień dobry {{ learner.first_name }},\n\nOkno recertyfikacji „{{ program }}” "
        "{% if timing == 'before' %}otwiera się{% else %}jest otwarte od{% endif %} "
        "{{ window_opens_at" + _PL_D + " }}; Twój certyfikat wygasa {{ expires_at" + _PL_D + " }}."
        "\n\n{{ dashboard_url }}",
    ),
    ("certification.recertification_failed", "en"): (
        "Your certification {{ program }} has expired",
        'Hello {{ learner.first_name }},\n\nYour certification "{{ program }}" expired on '
        "{{ expires_at" + _D + " }} without recertification. Contact your training team to certify again."
        "\n\n{{ dashboard_url }}",
    ),
    ("certification.recertification_failed", "fr"): (
        "Votre certification {{ program }} a expiré",
        "Bonjour {{ learner.first_name }},\n\nVotre certification « {{ program }} » a expiré le "
        "{{ expires_at" + _D + " }} sans recertification. Contactez l'équipe formation pour la repasser."
        "\n\n{{ dashboard_url }}",
    ),
    ("certification.recertification_failed", "pl"): (
        "Twój certyfikat {{ program }} wygasł",
        "Dzień dobry {{ learner.first_name }},\n\nTwój certyfikat „{{ program }}” wygasł "
        "{{ expires_at" + _PL_D + " }} bez recertyfikacji. Skontaktuj się z działem szkoleń."
        "\n\n{{ dashboard_url }}",
    ),
}

for (_event, _language), (_subject, _body) in _WORDING.items():
    register(_event, _language, subject=_subject, body=_body, sms_body="")
