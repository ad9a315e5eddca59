"""The import's uploaded files, from the preview to the confirmation.

The file stays in the database (`ImportUpload`) under a random key the server chose, bound to the
user who uploaded it; the confirmation names only that key, never a path, so no request can make
the server read or delete a file of its choosing. Confirming takes the upload's row lock: a second
click waits for the first, then finds the file already imported and is told so in words. Uploads
left unconfirmed are deleted after IMPORT_UPLOAD_MAX_AGE_MINUTES (each visit of the import page,
and `manage.py purge_import_uploads`).
"""

import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .import_files import AUTOMATIC, ImportFileRefused, read_import_file
from .imports import import_learners
from .models import ImportUpload

_KEY = re.compile(r"[A-Za-z0-9_-]{43}")


def _oldest_kept(now=None):
    return (now or timezone.now()) - timedelta(minutes=settings.IMPORT_UPLOAD_MAX_AGE_MINUTES)


def keep_upload(
    *, user, file_name: str, file_format: str, content: bytes, encoding: str = AUTOMATIC, preview=None
) -> str:
    """Keep an uploaded file until its preview is confirmed; returns the key the confirmation (and each page
    of the preview) sends back. `preview` is what the whole file's preview found (import_preview.summarise)."""
    key = secrets.token_urlsafe(32)
    ImportUpload.objects.create(
        key=key,
        uploaded_by=user,
        file_name=file_name[:255],
        file_format=file_format,
        encoding=encoding,
        content=content,
        preview=preview or {},
    )
    return key


def _unknown():
    return ImportFileRefused(_("This upload is unknown or has expired: upload the file again."))


def _already_imported():
    return ImportFileRefused(_("This file has already been imported: see the list of learners."))


def find_upload(*, key, user, lock=False) -> ImportUpload:
    """This user's upload kept under `key`, not yet imported; else ImportFileRefused saying why in words."""
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise _unknown()
    uploads = ImportUpload.objects.select_for_update() if lock else ImportUpload.objects
    upload = uploads.filter(key=key, uploaded_by=user).first()
    if upload is None or upload.uploaded_at < _oldest_kept():
        raise _unknown()
    if upload.imported_at is not None:
        raise _already_imported()
    return upload


def read_upload(upload):
    """The kept file read again, within the same limits as when it was uploaded."""
    return read_import_file(
        content=bytes(upload.content), file_format=upload.file_format, encoding=upload.encoding or AUTOMATIC
    )


def purge_expired_uploads(*, now=None) -> int:
    """Delete every upload older than IMPORT_UPLOAD_MAX_AGE_MINUTES; returns how many."""
    deleted, _by_model = ImportUpload.objects.filter(uploaded_at__lt=_oldest_kept(now)).delete()
    return deleted


def confirm_upload(*, key: str, user):
    """Import the file the user previewed under `key`; returns django-import-export's Result.

    Refused in words (ImportFileRefused), nothing imported, for a key that is not one of this
    user's uploads, an upload already imported or expired, or a file past the limits.
    """
    with transaction.atomic():
        upload = find_upload(key=key, user=user, lock=True)
        dataset = read_upload(upload)
        result = import_learners(dataset, actor=user, retain_instance_in_row_result=True)
        if not result.has_errors() and not result.has_validation_errors():
            # The personal data goes at once; the row stays until it expires to answer a second click.
            upload.content = b""
            upload.imported_at = timezone.now()
            upload.save(update_fields=["content", "imported_at"])
    return result
