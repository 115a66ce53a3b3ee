"""Forms of the campaigns area: launch (choose, then confirm), controls, returned letters."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, HiddenField
from wtforms.validators import DataRequired

from helpdesk.incidents.forms import ConfirmForm, MultiCheckboxField, choices

__all__ = ["ConfirmForm", "LaunchForm", "ReturnedForm", "channel_names"]


def channel_names() -> dict[str, str]:
    """The channels' names as managers read them."""
    return {"sms": _l("SMS"), "email": _l("Email"), "letter": _l("Printed letter")}


class LaunchForm(FlaskForm):
    """Step one chooses channels; step two (``confirmed``) launches what was previewed."""

    channels = MultiCheckboxField(_l("Channels"),
                                  validators=[DataRequired(_l("Choose at least one channel."))])
    again = BooleanField(_l("Also send to people who already got this notice version on a "
                            "channel (in an earlier campaign)"))
    confirmed = HiddenField(default="")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.channels.choices = choices(channel_names().items())


class ReturnedForm(FlaskForm):
    file = FileField(
        _l("CSV file of returned letter ids"),
        validators=[
            FileRequired(_l("Choose a CSV file to upload.")),
            FileAllowed(["csv", "txt"], _l("The file must be a .csv or .txt file.")),
        ],
    )
