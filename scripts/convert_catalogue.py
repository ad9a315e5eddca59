"""One-off: write the built-in words of notifications/catalogue.py as template files.

    .venv/bin/python scripts/convert_catalogue.py

Each (event, language) of catalogue.DEFAULTS becomes
notifications/templates/messages/<event>/<language>/{subject.txt, body.txt, sms.txt}
(and body.html when the dict had an HTML body); the generic words become
messages/_generic/en/. Run once, then the dict is deleted.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lms_notify.settings")

import django  # noqa: E402

django.setup()

from notifications import catalogue  # noqa: E402

FILES = {"subject": "subject.txt", "body": "body.txt", "sms_body": "sms.txt", "html_body": "body.html"}
OUT = ROOT / "notifications" / "templates" / "messages"


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
        count += write(OUT / event / language, words)
    count += write(OUT / "_generic" / "en", catalogue._GENERIC)
    print(f"{count} files under {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
