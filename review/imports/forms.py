"""The upload form of Reports → Import (coordinators)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from review.imports.encoding import ENCODINGS


class ReportImportForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("A ZIP of .txt files, a CSV or a JSONL file."),
        widget=forms.ClearableFileInput(attrs={"accept": ".zip,.txt,.csv,.tsv,.jsonl,.ndjson"}),
    )
    file_format = forms.ChoiceField(
        label=_("Format"),
        required=False,
        choices=[
            ("", _("From the file name")),
            ("txt", _("ZIP of .txt files (file name = external id)")),
            ("csv", _("CSV (one text column, the others become metadata)")),
            ("jsonl", _('JSONL ("text" plus optional fields)')),
        ],
    )
    text_column = forms.CharField(
        label=_("CSV text column"),
        required=False,
        max_length=200,
        help_text=_("Leave empty to use a column named text, texte, report or compte_rendu."),
    )
    id_column = forms.CharField(
        label=_("CSV id column"),
        required=False,
        max_length=200,
        help_text=_("Optional; by default a column named external_id or id."),
    )
    encoding = forms.ChoiceField(
        label=_("Encoding"),
        required=False,
        choices=[("", _("Detect (UTF-8 or Windows-1252/Latin-1)"))]
        + [(name, name) for name in ENCODINGS],
    )
    language = forms.ChoiceField(
        label=_("Language of the reports"),
        choices=[("fr", _("French")), ("en", _("English"))],
        initial="fr",
    )
