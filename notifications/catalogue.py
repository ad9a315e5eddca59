"""Built-in words for every event, used until an administrator edits a
MessageTemplate. English is the fallback for any language missing here."""

from dataclasses import dataclass


@dataclass(frozen=True)
class DefaultTemplate:
    subject: str
    body: str
    html_body: str = ""
    sms_body: str = ""


_GENERIC = DefaultTemplate(
    subject="{{ event_label }}",
    body="Hello {{ recipient_name }},\n\n{{ event_label }}.\n\n{% if action_url %}{{ action_url }}\n{% endif %}",
)

DEFAULTS: dict[tuple[str, str], DefaultTemplate] = {}


def register(event, language, **fields):
    DEFAULTS[(event, language)] = DefaultTemplate(**fields)


def default_template(event, language):
    return DEFAULTS.get((event, language)) or DEFAULTS.get((event, "en")) or _GENERIC


# --- Built-in wording (foundation) -------------------------------------------
# Context each event's defaults read (producers pass these names):
#   invitation.sent / invitation.reminder / notify.invitation: learner, action_url
#   notify.training_reminder: learner, complete [{title, completed_at}], incomplete [{title, due_at}], action_url
#   notify.missing_training: learner, programs (list of titles), action_url
#   notify.renewal: learner, program, expires_at, action_url
#   program.assigned: learner, program, due_at        program.completed: learner, program, completed_at
#   program.due: learner, program, due_at             certification.expiry: learner, program, expires_at
#   inbox.new_message: inbox_url, message_subject
#   session.convocation: learner, session (title, starts_at, ends_at, location), action_url
# Every template also gets recipient_name and event_label. Dates are aware
# datetimes: they render in the recipient's time zone and language.

_D = '|date:"j F Y"'
_DT = '|date:"j F Y, H:i"'
_PL_D = '|date:"j E Y"'
_PL_DT = '|date:"j E Y, H:i"'

# (event, language): (subject, body, sms_body)
_WORDING = {
    # Seed 002 §I: invitation to sign in.
    ("invitation.sent", "en"): (
        "You are invited to the training platform",
        "Hello {{ learner.first_name }},\n\nYou have been invited to join the training platform, where your "
        "courses and programs are waiting for you.\n\nAccept or decline the invitation here:\n{{ action_url }}\n\n"
        "See you soon!",
        "You are invited to the training platform: {{ action_url }}",
    ),
    ("invitation.sent", "fr"): (
        "Vous êtes invité(e) sur la plateforme de formation",
        "Bonjour {{ learner.first_name }},\n\nVous êtes invité(e) à rejoindre la plateforme de formation, où vos "
        "formations et parcours vous attendent.\n\nAcceptez ou refusez l'invitation ici :\n{{ action_url }}\n\n"
        "À bientôt !",
        "Vous êtes invité(e) sur la plateforme de formation : {{ action_url }}",
    ),
    ("invitation.sent", "pl"): (
        "Zaproszenie na platformę szkoleniową",
        "Dzień dobry {{ learner.first_name }},\n\nZostałeś zaproszony(-a) na platformę szkoleniową, na której "
        "czekają na Ciebie kursy i programy.\n\nPrzyjmij lub odrzuć zaproszenie tutaj:\n{{ action_url }}\n\n"
        "Do zobaczenia!",
        "Zaproszenie na platformę szkoleniową: {{ action_url }}",
    ),
    ("invitation.reminder", "en"): (
        "Reminder: your invitation to the training platform",
        "Hello {{ learner.first_name }},\n\nYou have not answered your invitation to the training platform yet. "
        "It only takes a moment:\n{{ action_url }}\n\nThank you!",
        "Reminder: your invitation to the training platform: {{ action_url }}",
    ),
    ("invitation.reminder", "fr"): (
        "Rappel : votre invitation sur la plateforme de formation",
        "Bonjour {{ learner.first_name }},\n\nVous n'avez pas encore répondu à votre invitation sur la plateforme "
        "de formation. Cela ne prend qu'un instant :\n{{ action_url }}\n\nMerci !",
        "Rappel : votre invitation sur la plateforme de formation : {{ action_url }}",
    ),
    ("invitation.reminder", "pl"): (
        "Przypomnienie: zaproszenie na platformę szkoleniową",
        "Dzień dobry {{ learner.first_name }},\n\nNie odpowiedziałeś(-aś) jeszcze na zaproszenie na platformę "
        "szkoleniową. To zajmie tylko chwilę:\n{{ action_url }}\n\nDziękujemy!",
        "Przypomnienie o zaproszeniu: {{ action_url }}",
    ),
    # Seed 000: the Notify buttons.
    ("notify.invitation", "en"): (
        "Your invitation to the training platform is waiting",
        "Hello {{ learner.first_name }},\n\nYour invitation to the training platform is still waiting for your "
        "answer. Accept it to see the training assigned to you:\n{{ action_url }}",
        "Your invitation is waiting: {{ action_url }}",
    ),
    ("notify.invitation", "fr"): (
        "Votre invitation sur la plateforme de formation vous attend",
        "Bonjour {{ learner.first_name }},\n\nVotre invitation sur la plateforme de formation attend toujours "
        "votre réponse. Acceptez-la pour accéder aux formations qui vous sont attribuées :\n{{ action_url }}",
        "Votre invitation vous attend : {{ action_url }}",
    ),
    ("notify.invitation", "pl"): (
        "Twoje zaproszenie na platformę szkoleniową czeka",
        "Dzień dobry {{ learner.first_name }},\n\nTwoje zaproszenie na platformę szkoleniową wciąż czeka na "
        "odpowiedź. Przyjmij je, aby zobaczyć przypisane Ci szkolenia:\n{{ action_url }}",
        "Twoje zaproszenie czeka: {{ action_url }}",
    ),
    ("notify.training_reminder", "en"): (
        "Reminder: you have training to finish",
        "Hello {{ learner.first_name }},\n\nHere is where you stand with your training.\n"
        "{% if complete %}\nCompleted:\n{% for item in complete %}- {{ item.title }}"
        "{% if item.completed_at %} (" + "{{ item.completed_at" + _D + " }})" + "{% endif %}\n{% endfor %}{% endif %}"
        "\nStill to do:\n{% for item in incomplete %}- {{ item.title }}"
        "{% if item.due_at %} (due {{ item.due_at" + _D + " }})" + "{% endif %}\n{% endfor %}"
        "{% if action_url %}\nContinue here: {{ action_url }}\n{% endif %}",
        "You have {{ incomplete|length }} training item(s) to finish.{% if action_url %} {{ action_url }}{% endif %}",
    ),
    ("notify.training_reminder", "fr"): (
        "Rappel : des formations restent à terminer",
        "Bonjour {{ learner.first_name }},\n\nVoici où vous en êtes de vos formations.\n"
        "{% if complete %}\nTerminées :\n{% for item in complete %}- {{ item.title }}"
        "{% if item.completed_at %} (le {{ item.completed_at" + _D + " }})" + "{% endif %}\n{% endfor %}{% endif %}"
        "\nÀ terminer :\n{% for item in incomplete %}- {{ item.title }}"
        "{% if item.due_at %} (échéance le {{ item.due_at" + _D + " }})" + "{% endif %}\n{% endfor %}"
        "{% if action_url %}\nContinuer ici : {{ action_url }}\n{% endif %}",
        "Il vous reste {{ incomplete|length }} formation(s) à terminer.{% if action_url %} {{ action_url }}{% endif %}",
    ),
    ("notify.training_reminder", "pl"): (
        "Przypomnienie: masz szkolenia do ukończenia",
        "Dzień dobry {{ learner.first_name }},\n\nOto stan Twoich szkoleń.\n"
        "{% if complete %}\nUkończone:\n{% for item in complete %}- {{ item.title }}"
        "{% if item.completed_at %} ({{ item.completed_at" + _PL_D + " }})" + "{% endif %}\n{% endfor %}{% endif %}"
        "\nDo ukończenia:\n{% for item in incomplete %}- {{ item.title }}"
        "{% if item.due_at %} (termin: {{ item.due_at" + _PL_D + " }})" + "{% endif %}\n{% endfor %}"
        "{% if action_url %}\nKontynuuj tutaj: {{ action_url }}\n{% endif %}",
        "Szkolenia do ukończenia: {{ incomplete|length }}.{% if action_url %} {{ action_url }}{% endif %}",
    ),
    ("notify.missing_training", "en"): (
        "New training is waiting for you",
        "Hello {{ learner.first_name }},\n\nNew training has been added to your dashboard:\n"
        "{% for title in programs %}- {{ title }}\n{% endfor %}"
        "{% if action_url %}\nStart here: {{ action_url }}\n{% endif %}",
        "New training on your dashboard: {{ programs|join:', ' }}",
    ),
    ("notify.missing_training", "fr"): (
        "De nouvelles formations vous attendent",
        "Bonjour {{ learner.first_name }},\n\nDe nouvelles formations ont été ajoutées à votre tableau de bord :\n"
        "{% for title in programs %}- {{ title }}\n{% endfor %}"
        "{% if action_url %}\nCommencer ici : {{ action_url }}\n{% endif %}",
        "Nouvelles formations sur votre tableau de bord : {{ programs|join:', ' }}",
    ),
    ("notify.missing_training", "pl"): (
        "Czekają na Ciebie nowe szkolenia",
        "Dzień dobry {{ learner.first_name }},\n\nNa Twoim pulpicie pojawiły się nowe szkolenia:\n"
        "{% for title in programs %}- {{ title }}\n{% endfor %}"
        "{% if action_url %}\nZacznij tutaj: {{ action_url }}\n{% endif %}",
        "Nowe szkolenia na Twoim pulpicie: {{ programs|join:', ' }}",
    ),
    ("notify.renewal", "en"): (
        "Time to renew your certification: {{ program }}",
        'Hello {{ learner.first_name }},\n\nYour certification "{{ program }}" expires on '
        "{{ expires_at" + _D + " }}. The renewal has been added to your dashboard so you can recertify in time."
        "{% if action_url %}\n\n{{ action_url }}{% endif %}",
        "Your certification {{ program }} expires on {{ expires_at" + _D + " }}: renew it now.",
    ),
    ("notify.renewal", "fr"): (
        "Renouvelez votre certification : {{ program }}",
        "Bonjour {{ learner.first_name }},\n\nVotre certification « {{ program }} » expire le "
        "{{ expires_at" + _D + " }}. Son renouvellement a été ajouté à votre tableau de bord pour que vous "
        "puissiez la repasser à temps.{% if action_url %}\n\n{{ action_url }}{% endif %}",
        "Votre certification {{ program }} expire le {{ expires_at" + _D + " }} : renouvelez-la.",
    ),
    ("notify.renewal", "pl"): (
        "Czas odnowić certyfikat: {{ program }}",
        "Dzień dobry {{ learner.first_name }},\n\nTwój certyfikat „{{ program }}” wygasa "
        "{{ expires_at" + _PL_D + " }}. Odnowienie zostało dodane do Twojego pulpitu, abyś zdążył(a) "
        "przejść recertyfikację.{% if action_url %}\n\n{{ action_url }}{% endif %}",
        "Twój certyfikat {{ program }} wygasa {{ expires_at" + _PL_D + " }}: odnów go.",
    ),
    # Seed 001: programs and certifications.
    ("program.assigned", "en"): (
        "New training assigned: {{ program }}",
        'Hello {{ learner.first_name }},\n\n"{{ program }}" has been assigned to you.'
        "{% if due_at %} Please complete it by {{ due_at" + _D + " }}.{% endif %}",
        "",
    ),
    ("program.assigned", "fr"): (
        "Nouvelle formation attribuée : {{ program }}",
        "Bonjour {{ learner.first_name }},\n\n« {{ program }} » vous a été attribué."
        "{% if due_at %} Merci de le terminer avant le {{ due_at" + _D + " }}.{% endif %}",
        "",
    ),
    ("program.assigned", "pl"): (
        "Przypisano nowe szkolenie: {{ program }}",
        "Dzień dobry {{ learner.first_name }},\n\nPrzypisano Ci „{{ program }}”."
        "{% if due_at %} Ukończ je do {{ due_at" + _PL_D + " }}.{% endif %}",
        "",
    ),
    ("program.completed", "en"): (
        "Congratulations: {{ program }} completed",
        'Hello {{ learner.first_name }},\n\nCongratulations, you have completed "{{ program }}"'
        "{% if completed_at %} on {{ completed_at" + _D + " }}{% endif %}.",
        "",
    ),
    ("program.completed", "fr"): (
        "Félicitations : {{ program }} terminé",
        "Bonjour {{ learner.first_name }},\n\nFélicitations, vous avez terminé « {{ program }} »"
        "{% if completed_at %} le {{ completed_at" + _D + " }}{% endif %}.",
        "",
    ),
    ("program.completed", "pl"): (
        "Gratulacje: ukończono {{ program }}",
        "Dzień dobry {{ learner.first_name }},\n\nGratulacje, ukończyłeś(-aś) „{{ program }}”"
        "{% if completed_at %} {{ completed_at" + _PL_D + " }}{% endif %}.",
        "",
    ),
    ("program.due", "en"): (
        "Due date: {{ program }}",
        'Hello {{ learner.first_name }},\n\n"{{ program }}" is due on {{ due_at' + _D + " }} and is not "
        "completed yet. Please finish it in time.",
        "",
    ),
    ("program.due", "fr"): (
        "Échéance : {{ program }}",
        "Bonjour {{ learner.first_name }},\n\n« {{ program }} » arrive à échéance le {{ due_at" + _D + " }} et "
        "n'est pas encore terminé. Merci de le terminer à temps.",
        "",
    ),
    ("program.due", "pl"): (
        "Termin: {{ program }}",
        "Dzień dobry {{ learner.first_name }},\n\nTermin ukończenia „{{ program }}” upływa "
        "{{ due_at" + _PL_D + " }}, a szkolenie nie jest jeszcze ukończone. Prosimy o terminowe ukończenie.",
        "",
    ),
    ("certification.expiry", "en"): (
        "Your certification {{ program }} expires soon",
        'Hello {{ learner.first_name }},\n\nYour certification "{{ program }}" expires on '
        "{{ expires_at" + _D + " }}. Recertify before that date to keep it valid.",
        "",
    ),
    ("certification.expiry", "fr"): (
        "Votre certification {{ program }} expire bientôt",
        "Bonjour {{ learner.first_name }},\n\nVotre certification « {{ program }} » expire le "
        "{{ expires_at" + _D + " }}. Repassez-la avant cette date pour qu'elle reste valide.",
        "",
    ),
    ("certification.expiry", "pl"): (
        "Twój certyfikat {{ program }} wkrótce wygaśnie",
        "Dzień dobry {{ learner.first_name }},\n\nTwój certyfikat „{{ program }}” wygasa "
        "{{ expires_at" + _PL_D + " }}. Przejdź recertyfikację przed tą datą, aby zachować jego ważność.",
        "",
    ),
    # Seed 004: a system message is waiting; the link signs the recipient in for 7 days.
    ("inbox.new_message", "en"): (
        "New message: {{ message_subject }}",
        'Hello {{ recipient_name }},\n\nA new message is waiting in your inbox: "{{ message_subject }}".\n\n'
        "Read it here (no password needed, the link works for 7 days):\n{{ inbox_url }}",
        "New message: {{ message_subject }} {{ inbox_url }}",
    ),
    ("inbox.new_message", "fr"): (
        "Nouveau message : {{ message_subject }}",
        "Bonjour {{ recipient_name }},\n\nUn nouveau message vous attend dans votre messagerie : "
        "« {{ message_subject }} ».\n\nLisez-le ici (sans mot de passe, le lien est valable 7 jours) :\n"
        "{{ inbox_url }}",
        "Nouveau message : {{ message_subject }} {{ inbox_url }}",
    ),
    ("inbox.new_message", "pl"): (
        "Nowa wiadomość: {{ message_subject }}",
        "Dzień dobry {{ recipient_name }},\n\nW Twojej skrzynce czeka nowa wiadomość: „{{ message_subject }}”.\n\n"
        "Przeczytaj ją tutaj (bez logowania, link jest aktywny przez 7 dni):\n{{ inbox_url }}",
        "Nowa wiadomość: {{ message_subject }} {{ inbox_url }}",
    ),
    # Seed 002 §III: convocation to a session.
    ("session.convocation", "en"): (
        "Convocation: {{ session.title }} on {{ session.starts_at" + _D + " }}",
        'Hello {{ learner.first_name }},\n\nYou are expected at the session "{{ session.title }}".\n\n'
        "When: {{ session.starts_at" + _DT + ' }} – {{ session.ends_at|date:"H:i" }}\n'
        "{% if session.location %}Where: {{ session.location }}\n{% endif %}"
        "{% if action_url %}\nDetails: {{ action_url }}\n{% endif %}\nSee you there!",
        "Convocation: {{ session.title }}, {{ session.starts_at" + _DT + " }}",
    ),
    ("session.convocation", "fr"): (
        "Convocation : {{ session.title }} le {{ session.starts_at" + _D + " }}",
        "Bonjour {{ learner.first_name }},\n\nVous êtes convoqué(e) à la session « {{ session.title }} ».\n\n"
        "Quand : {{ session.starts_at" + _DT + ' }} – {{ session.ends_at|date:"H:i" }}\n'
        "{% if session.location %}Où : {{ session.location }}\n{% endif %}"
        "{% if action_url %}\nDétails : {{ action_url }}\n{% endif %}\nÀ bientôt !",
        "Convocation : {{ session.title }}, {{ session.starts_at" + _DT + " }}",
    ),
    ("session.convocation", "pl"): (
        "Zaproszenie na sesję: {{ session.title }}, {{ session.starts_at" + _PL_D + " }}",
        "Dzień dobry {{ learner.first_name }},\n\nZapraszamy na sesję „{{ session.title }}”.\n\n"
        "Kiedy: {{ session.starts_at" + _PL_DT + ' }} – {{ session.ends_at|date:"H:i" }}\n'
        "{% if session.location %}Gdzie: {{ session.location }}\n{% endif %}"
        "{% if action_url %}\nSzczegóły: {{ action_url }}\n{% endif %}\nDo zobaczenia!",
        "Sesja: {{ session.title }}, {{ session.starts_at" + _PL_DT + " }}",
    ),
}

for (_event, _language), (_subject, _body, _sms) in _WORDING.items():
    # A block appended below for the same (event, language) registers later, so it wins.
    register(_event, _language, subject=_subject, body=_body, sms_body=_sms)
# --- End of built-in wording (foundation) -------------------------------------
