"""The upload form of an affected-persons CSV."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, SubmitField


class UploadForm(FlaskForm):
    file = FileField(
        _l("CSV file of affected people"),
        validators=[
            FileRequired(_l("Choose a CSV file to upload.")),
            FileAllowed(["csv"], _l("The file must be a .csv file.")),
        ],
    )
    dry_run = BooleanField(_l("Check only (dry run): report problems, change nothing"))
    submit = SubmitField(_l("Upload and import"))
