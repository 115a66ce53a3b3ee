"""The public FAQ page: approved public answers in the reader's language, searchable."""

from __future__ import annotations

from flask import request

from portal.answers.faq import clean_query, faq_entries, search, with_phone_link
from portal.core.i18n import current_language
from portal.customer import bp
from portal.customer.pages import page
from portal.customer.session import current_person


@bp.get("/faq")
def faq():
    """Frequently asked questions; ``?q=`` searches titles and answers."""
    person = current_person()
    language = person.language if person else current_language()
    entries = faq_entries(language, person.incident_id if person else None)
    query = clean_query(request.args.get("q"))
    if query:
        entries = search(entries, query)
    return page("customer/faq.html", entries=entries, query=query, language=language,
                with_phone_link=with_phone_link)


__all__ = ["faq"]
