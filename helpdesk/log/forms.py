"""Forms of the log area."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from portal.audit.review import REASON_MAX


class RevealForm(FlaskForm):
    """Why a manager needs to see a log entry's personal values (logged with the reveal)."""

    reason = TextAreaField(
        _l("Reason for revealing"),
        validators=[DataRequired(_l("Say why you need to see these values.")),
                    Length(min=5, max=REASON_MAX,
                           message=_l("Write between 5 and %(max)d characters.", max=REASON_MAX))],
    )
