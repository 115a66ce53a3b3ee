"""The verified customer's preferences: language, preferred channel and SMS opt-out."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from portal.customer import bp
from portal.customer.forms import PreferencesForm
from portal.customer.pages import page
from portal.customer.session import current_person, customer_required
from portal.extensions import db
from portal.models.person import Person
from portal.people.preferences import update_preferences


def _check_preferences(form: PreferencesForm, person: Person) -> bool:
    ok = True
    channel = form.preferred_channel.data
    if channel == "sms" and not person.phone:
        form.preferred_channel.errors.append(
            _("We do not hold a mobile number for you, so we cannot use text messages."))
        ok = False
    elif channel == "sms" and form.sms_opt_out.data:
        form.preferred_channel.errors.append(
            _("You chose not to receive text messages. Choose another way to contact you, "
              "or untick the opt-out."))
        ok = False
    elif channel == "email" and not person.email:
        form.preferred_channel.errors.append(
            _("We do not hold an email address for you, so we cannot use email."))
        ok = False
    return ok


@bp.route("/preferences", methods=["GET", "POST"])
@customer_required
def preferences():
    """Language, preferred channel and SMS opt-out; each change is logged."""
    person = current_person()
    form = PreferencesForm(
        data=None if request.method == "POST" else {
            "language": person.language,
            "preferred_channel": person.preferred_channel or ("email" if person.email else "sms"),
            "sms_opt_out": person.sms_opt_out,
        }
    )
    if form.validate_on_submit() and _check_preferences(form, person):
        changed = update_preferences(person, {
            "language": form.language.data,
            "preferred_channel": form.preferred_channel.data,
            "sms_opt_out": bool(form.sms_opt_out.data),
        })
        db.session.commit()
        # In the language the next page is shown in: the one just chosen.
        with force_locale(form.language.data):
            flash(_("Your preferences were saved.") if changed else _("Nothing was changed."),
                  "success")
        return redirect(url_for("customer.preferences"))
    return page("customer/preferences.html", 400 if form.errors else 200, form=form)
