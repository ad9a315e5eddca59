"""Built-in words of the program and certification events (seed 001), in en, fr and pl.

Registered in the notifications catalogue at start-up; an administrator's
MessageTemplate still wins. Templates read plain values: learner
{first_name, last_name, full_name}, program {title, kind}, course_set
{title, due_at}, and the dates due_at, expires_at, completed_at,
window_opens_at, with `timing` (before, on_event, after), `days` and dashboard_url.
"""

from notifications.catalogue import register

_D = '|date:"j F Y"'
_PL_D = '|date:"j E Y"'

_WORDING = {
    ("program.completed", "en"): (
        "Congratulations: {{ program.title }} completed",
        'Hello {{ learner.first_name }},\n\nCongratulations, you have completed "{{ program.title }}"'
        "{% if completed_at %} on {{ completed_at" + _D + " }}{% endif %}.",
    ),
    ("program.completed", "fr"): (
        "Félicitations : {{ program.title }} terminé",
        "Bonjour {{ learner.first_name }},\n\nFélicitations, vous avez terminé « {{ program.title }} »"
        "{% if completed_at %} le {{ completed_at" + _D + " }}{% endif %}.",
    ),
    ("program.completed", "pl"): (
        "Gratulacje: ukończono {{ program.title }}",
        "Dzień dobry {{ learner.first_name }},\n\nGratulacje, ukończyłeś(-aś) „{{ program.title }}”"
        "{% if completed_at %} {{ completed_at" + _PL_D + " }}{% endif %}.",
    ),
    ("program.course_set_completed", "en"): (
        "Course set completed: {{ course_set.title }}",
        'Hello {{ learner.first_name }},\n\nWell done: you have completed "{{ course_set.title }}" of '
        '"{{ program.title }}".',
    ),
    ("program.course_set_completed", "fr"): (
        "Module terminé : {{ course_set.title }}",
        "Bonjour {{ learner.first_name }},\n\nBravo : vous avez terminé « {{ course_set.title }} » de "
        "« {{ program.title }} ».",
    ),
    ("program.course_set_completed", "pl"): (
        "Ukończono moduł: {{ course_set.title }}",
        "Dzień dobry {{ learner.first_name }},\n\nBrawo: ukończyłeś(-aś) „{{ course_set.title }}” w "
        "„{{ program.title }}”.",
    ),
    ("program.course_set_due", "en"): (
        "Due date: {{ course_set.title }} ({{ program.title }})",
        'Hello {{ learner.first_name }},\n\n"{{ course_set.title }}" of "{{ program.title }}" '
        "{% if timing == 'after' %}was due on{% else %}is due on{% endif %} {{ course_set.due_at" + _D + " }} "
        "and is not completed yet.\n\n{{ dashboard_url }}",
    ),
    ("program.course_set_due", "fr"): (
        "Échéance : {{ course_set.title }} ({{ program.title }})",
        "Bonjour {{ learner.first_name }},\n\n« {{ course_set.title }} » de « {{ program.title }} » "
        "{% if timing == 'after' %}devait être terminé le{% else %}est à terminer pour le{% endif %} "
        "{{ course_set.due_at" + _D + " }} et n'est pas encore terminé.\n\n{{ dashboard_url }}",
    ),
    ("program.course_set_due", "pl"): (
        "Termin: {{ course_set.title }} ({{ program.title }})",
        "Dzień dobry {{ learner.first_name }},\n\nTermin ukończenia „{{ course_set.title }}” w "
        "„{{ program.title }}” {% if timing == 'after' %}upłynął{% else %}upływa{% endif %} "
        "{{ course_set.due_at" + _PL_D + " }}, a moduł nie jest jeszcze ukończony.\n\n{{ dashboard_url }}",
    ),
    ("program.due", "en"): (
        "Due date: {{ program.title }}",
        'Hello {{ learner.first_name }},\n\n"{{ program.title }}" '
        "{% if timing == 'after' %}was due on{% else %}is due on{% endif %} {{ due_at" + _D + " }} "
        "and is not completed yet. Please finish it{% if timing != 'after' %} in time{% endif %}."
        "\n\n{{ dashboard_url }}",
    ),
    ("program.due", "fr"): (
        "Échéance : {{ program.title }}",
        "Bonjour {{ learner.first_name }},\n\n« {{ program.title }} » "
        "{% if timing == 'after' %}devait être terminé le{% else %}arrive à échéance le{% endif %} "
        "{{ due_at" + _D + " }} et n'est pas encore terminé. Merci de le terminer.\n\n{{ dashboard_url }}",
    ),
    ("program.due", "pl"): (
        "Termin: {{ program.title }}",
        "Dzień dobry {{ learner.first_name }},\n\nTermin ukończenia „{{ program.title }}” "
        "{% if timing == 'after' %}upłynął{% else %}upływa{% endif %} {{ due_at" + _PL_D + " }}, a szkolenie "
        "nie jest jeszcze ukończone. Prosimy o jego ukończenie.\n\n{{ dashboard_url }}",
    ),
    ("certification.expiry", "en"): (
        "Your certification {{ program.title }} expires soon",
        'Hello {{ learner.first_name }},\n\nYour certification "{{ program.title }}" expires on '
        "{{ expires_at" + _D + " }}. Recertify before that date to keep it valid.\n\n{{ dashboard_url }}",
    ),
    ("certification.expiry", "fr"): (
        "Votre certification {{ program.title }} expire bientôt",
        "Bonjour {{ learner.first_name }},\n\nVotre certification « {{ program.title }} » expire le "
        "{{ expires_at" + _D + " }}. Repassez-la avant cette date pour qu'elle reste valide.\n\n{{ dashboard_url }}",
    ),
    ("certification.expiry", "pl"): (
        "Twój certyfikat {{ program.title }} wkrótce wygaśnie",
        "Dzień dobry {{ learner.first_name }},\n\nTwój certyfikat „{{ program.title }}” wygasa "
        "{{ expires_at" + _PL_D + " }}. Przejdź recertyfikację przed tą datą.\n\n{{ dashboard_url }}",
    ),
    ("certification.window_open", "en"): (
        "Recertification: {{ program.title }}",
        'Hello {{ learner.first_name }},\n\nThe recertification window of "{{ program.title }}" '
        "{% if timing == 'before' %}opens on{% else %}opened on{% endif %} {{ window_opens_at" + _D + " }}; "
        "your certification expires on {{ expires_at" + _D + " }}. Recertify in time to keep it valid."
        "\n\n{{ dashboard_url }}",
    ),
    ("certification.window_open", "fr"): (
        "Recertification : {{ program.title }}",
        "Bonjour {{ learner.first_name }},\n\nLa période de recertification de « {{ program.title }} » "
        "{% if timing == 'before' %}ouvre le{% else %}est ouverte depuis le{% endif %} "
        "{{ window_opens_at" + _D + " }} ; votre certification expire le {{ expires_at" + _D + " }}."
        "\n\n{{ dashboard_url }}",
    ),
    ("certification.window_open", "pl"): (
        "Recertyfikacja: {{ program.title }}",
        "Dzień dobry {{ learner.first_name }},\n\nOkno recertyfikacji „{{ program.title }}” "
        "{% if timing == 'before' %}otwiera się{% else %}jest otwarte od{% endif %} "
        "{{ window_opens_at" + _PL_D + " }}; Twój certyfikat wygasa {{ expires_at" + _PL_D + " }}."
        "\n\n{{ dashboard_url }}",
    ),
    ("certification.recertification_failed", "en"): (
        "Your certification {{ program.title }} has expired",
        'Hello {{ learner.first_name }},\n\nYour certification "{{ program.title }}" expired on '
        "{{ expires_at" + _D + " }} without recertification. Contact your training team to certify again."
        "\n\n{{ dashboard_url }}",
    ),
    ("certification.recertification_failed", "fr"): (
        "Votre certification {{ program.title }} a expiré",
        "Bonjour {{ learner.first_name }},\n\nVotre certification « {{ program.title }} » a expiré le "
        "{{ expires_at" + _D + " }} sans recertification. Contactez l'équipe formation pour la repasser."
        "\n\n{{ dashboard_url }}",
    ),
    ("certification.recertification_failed", "pl"): (
        "Twój certyfikat {{ program.title }} wygasł",
        "Dzień dobry {{ learner.first_name }},\n\nTwój certyfikat „{{ program.title }}” wygasł "
        "{{ expires_at" + _PL_D + " }} bez recertyfikacji. Skontaktuj się z działem szkoleń."
        "\n\n{{ dashboard_url }}",
    ),
}

for (_event, _language), (_subject, _body) in _WORDING.items():
    register(_event, _language, subject=_subject, body=_body, sms_body="")
