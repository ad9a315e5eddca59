"""The learner import's admin pages (seed 002 §I): upload, a bounded preview, confirmation.

django-import-export's form, confirm form and templates are kept; its two views are replaced so that
the file is read within limits (`import_files`), kept by a server-side key bound to the uploader
(`uploads`), and every refusal is a message in words, never a 500 nor a path sent by the browser.
"""

import logging

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from import_export.admin import ImportMixin
from import_export.forms import ConfirmImportForm, ImportForm

from . import import_preview, uploads
from .import_files import AUTOMATIC, ENCODINGS, ImportFileRefused, check_upload_size, read_import_file
from .imports import COLUMN_HELP, COLUMNS, import_learners, template_dataset

logger = logging.getLogger(__name__)

TEMPLATE_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class LearnerImportForm(ImportForm):
    encoding = forms.ChoiceField(
        label=_("Encoding of a CSV file"),
        choices=ENCODINGS,
        initial=AUTOMATIC,
        required=False,
        help_text=_("Automatic reads what Excel saves in French, Polish or English; an xlsx file needs no choice."),
    )

    def clean_import_file(self):
        import_file = self.cleaned_data["import_file"]
        try:
            check_upload_size(import_file.size)
        except ImportFileRefused as exc:
            raise forms.ValidationError(exc.message) from None
        return import_file


class LearnerImportMixin(ImportMixin):
    import_form_class = LearnerImportForm
    import_error_display = ("message",)

    def _import_url(self):
        return f"admin:{self.opts.app_label}_{self.opts.model_name}_import"

    def _page(self, request, context):
        context.update(self.admin_site.each_context(request))
        context.setdefault("title", _("Import"))
        context["opts"] = self.model._meta
        context["import_error_display"] = self.import_error_display
        form = context.get("form")
        if form is not None:
            context["media"] = self.media + form.media
        # One list of the columns, each with its readable name and what it holds.
        context["columns"] = [(column, *COLUMN_HELP[column][:2]) for column in COLUMNS]
        result = context.get("result")
        if result is not None:
            context["preview_headers"] = [COLUMN_HELP.get(h, (h,))[0] for h in result.diff_headers]
            paging = context.get("paging") or import_preview.first_page(
                result, summary=import_preview.summarise(result)
            )
            context.update(paging=paging, preview_rows=paging.rows, bad_rows=paging.bad_rows)
            if paging.notice:
                messages.warning(request, paging.notice)
            if result.has_errors():
                row_errors = [error for _line, errors in result.row_errors() for error in errors]
                for error in [*result.base_errors, *row_errors]:
                    logger.error("Learner import failed: %s\n%s", error.error, error.traceback)
        request.current_app = self.admin_site.name
        return TemplateResponse(request, [self.import_template_name], context)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        template = path(
            "import/template.<str:file_format>",
            self.admin_site.admin_view(self.import_template),
            name=f"{info[0]}_{info[1]}_import_template",
        )
        preview = path(
            "import/preview/<str:key>/",
            self.admin_site.admin_view(self.import_preview),
            name=f"{info[0]}_{info[1]}_import_preview",
        )
        return [template, preview, *super().get_urls()]

    def import_template(self, request, file_format):
        """The template file of the import: the columns and one example row, as CSV or XLSX."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        if file_format not in TEMPLATE_TYPES:
            raise Http404
        dataset = template_dataset()
        content = dataset.export(file_format)
        response = HttpResponse(content, content_type=TEMPLATE_TYPES[file_format])
        response["Content-Disposition"] = f'attachment; filename="learners-template.{file_format}"'
        return response

    def preview_limit(self):
        return settings.IMPORT_PREVIEW_ROWS

    def _confirm_form(self, *, key, file_name, file_format):
        titles = [f().get_title() for f in self.get_import_formats()]
        return ConfirmImportForm(
            initial={
                "import_file_name": key,
                "original_file_name": file_name[:255],
                "format": titles.index(file_format) if file_format in titles else 0,
                "resource": "0",
            }
        )

    def import_preview(self, request, key):
        """Page ?page=N of the preview of the user's own kept upload `key`: the next rows, or bad lines."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        uploads.purge_expired_uploads()
        try:
            paging, result = import_preview.preview_page(key=key, user=request.user, page=request.GET.get("page", 1))
        except ImportFileRefused as exc:
            messages.error(request, exc.message)
            return redirect(self._import_url())
        form = self.create_import_form(request)
        context = {"form": form, "result": result, "paging": paging}
        if not paging.bad_in_file:
            context["confirm_form"] = self._confirm_form(
                key=key, file_name=paging.file_name, file_format=paging.file_format
            )
        return self._page(request, context)

    def import_action(self, request, **kwargs):
        if not self.has_import_permission(request):
            raise PermissionDenied
        uploads.purge_expired_uploads()
        form = self.create_import_form(request)
        context = {"form": form}
        if request.method == "POST" and form.is_valid():
            file_format = self.get_import_formats()[int(form.cleaned_data["format"])]().get_title()
            encoding = form.cleaned_data.get("encoding") or AUTOMATIC
            upload = form.cleaned_data["import_file"]
            content = upload.read()
            try:
                dataset = read_import_file(content=content, file_format=file_format, encoding=encoding)
            except ImportFileRefused as exc:
                form.add_error("import_file", exc.message)
            else:
                result = import_learners(dataset, dry_run=True, actor=request.user)
                context["result"] = result
                summary = import_preview.summarise(result)
                good = not result.has_errors() and not result.has_validation_errors()
                # A file of bad lines is kept only when they fill more than a page, to show the others.
                if good or (not result.has_errors() and import_preview.is_paged(summary)):
                    key = uploads.keep_upload(
                        user=request.user,
                        file_name=upload.name,
                        file_format=file_format,
                        encoding=encoding,
                        content=content,
                        preview=summary,
                    )
                    context["paging"] = import_preview.first_page(result, summary=summary, key=key)
                    if good:
                        context["confirm_form"] = self._confirm_form(
                            key=key, file_name=upload.name, file_format=file_format
                        )
        return self._page(request, context)

    @method_decorator(require_POST)
    def process_import(self, request, **kwargs):
        if not self.has_import_permission(request):
            raise PermissionDenied
        uploads.purge_expired_uploads()
        try:
            result = uploads.confirm_upload(key=request.POST.get("import_file_name", ""), user=request.user)
        except ImportFileRefused as exc:
            messages.error(request, exc.message)
            return redirect(self._import_url())
        if result.has_errors() or result.has_validation_errors():
            # The learners changed since the preview (a group deleted…): nothing imported, the reasons shown.
            form = self.get_import_form_class(request)(
                self.get_import_formats(), self.get_import_resource_classes(request)
            )
            return self._page(request, {"form": form, "result": result})
        return self.process_result(result, request)
