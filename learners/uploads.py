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


def keep_upload(*, user, file_name: str, file_format: str, content: bytes, encoding: str = AUTOMATIC) -> str:
    """Keep an uploaded file until its preview is confirmed; returns the key the confirmation sends back."""
    key = secrets.token_urlsafe(32)
    ImportUpload.objects.create(
        key=key,
        uploaded_by=user,
        file_name=file_name[:255],
        file_format=file_format,
        encoding=encoding,
        content=content,
    )
    return key


def purge_expired_uploads(*, now=None) -> int:
    """Delete every upload older than IMPORT_UPLOAD_MAX_AGE_MINUTES; returns how many."""
    deleted, _by_model = ImportUpload.objects.filter(uploaded_at__lt=_oldest_kept(now)).delete()
    return deleted


def confirm_upload(*, key: str, user):
    """Import the file the user previewed under `key`; returns django-import-export's Result.

    Refused in words (ImportFileRefused), nothing imported, for a key that is not one of this
    user's uploads, an upload already imported or expired, or a file past the limits.
    """
    unknown = ImportFileRefused(_("This upload is unknown or has expired: upload the file again."))
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise unknown
    with transaction.atomic():
        upload = ImportUpload.objects.select_for_update().filter(key=key, uploaded_by=user).first()
        if upload is None or upload.uploaded_at < _oldest_kept():
            raise unknown
        if upload.imported_at is not None:
            raise ImportFileRefused(_("This file has already been imported: see the list of learners."))
        dataset = read_import_file(
            content=bytes(upload.content), file_format=upload.file_format, encoding=upload.encoding or AUTOMATIC
        )
        result = import_learners(dataset, actor=user, retain_instance_in_row_result=True)
        if not result.has_errors() and not result.has_validation_errors():
            # The personal data goes at once; the row stays until it expires to answer a second click.
            upload.content = b""
            upload.imported_at = timezone.now()
            upload.save(update_fields=["content", "imported_at"])
    return result
