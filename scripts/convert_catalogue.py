"""One-off: write the built-in words of notifications/catalogue.py as template files.

    .venv/bin/python scripts/convert_catalogue.py

Each (event, language) registered in catalogue.DEFAULTS (the dict of words
the project kept in Python, and whatever code still calls catalogue.register)
becomes <app>/templates/messages/<event>/<language>/{subject.txt, body.txt,
sms.txt} (and body.html when there was an HTML body), by default under
notifications/ (--app to choose). Run it, then delete the registration.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lms_notify.settings")

import django  # noqa: E402

django.setup()

from notifications import catalogue, wording  # noqa: E402

FILES = {"subject": "subject.txt", "body": "body.txt", "sms_body": "sms.txt", "html_body": "body.html"}
APP = sys.argv[sys.argv.index("--app") + 1] if "--app" in sys.argv else "notifications"
OUT = ROOT / APP / "templates" / "messages"


def write(folder: Path, words) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for part, name in FILES.items():
        source = getattr(words, part)
        if not source:
            continue
        (folder / name).write_text(source.rstrip("\n") + "\n", encoding="utf-8")
        written += 1
    return written


def main():
    count = 0
    for (event, language), words in sorted(catalogue.DEFAULTS.items()):
        if wording.builtin_words(event, language).found == (event, language):
            continue  # already a file somewhere (code that registers what it read from files)
        count += write(OUT / event / language, words)
    print(f"{count} files under {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
