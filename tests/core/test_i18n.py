"""Language choice and catalog completeness."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.cli.translate_cmd import catalog_problems, same_as_english


def test_accept_language_picks_the_language(client):
    response = client.get("/staff/login", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert '<html lang="de">' in response.text
    assert "Anmeldung für Mitarbeitende" in response.text


def test_explicit_choice_wins_over_accept_language_and_sticks(client):
    response = client.get("/staff/login?lang=es", headers={"Accept-Language": "fr"})
    assert '<html lang="es">' in response.text
    assert "Acceso del personal" in response.text
    # Kept in the session for the next page, which has no ?lang=.
    again = client.get("/", headers={"Accept-Language": "fr"})
    assert '<html lang="es">' in again.text


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("es", "Página no encontrada"), ("fr", "Page introuvable"), ("de", "Seite nicht gefunden")],
)
def test_error_pages_are_translated(client, lang, expected):
    response = client.get(f"/no-such-page?lang={lang}")
    assert response.status_code == 404
    assert expected in response.text


def test_unsupported_language_is_ignored(client):
    response = client.get("/staff/login?lang=xx", headers={"Accept-Language": "en"})
    assert '<html lang="en">' in response.text


def test_staff_saved_preference_wins(client, make_staff, login, db):
    agent = make_staff("agent", locale="fr")
    login(agent)
    response = client.get("/helpdesk/", headers={"Accept-Language": "de"})
    assert '<html lang="fr">' in response.text
    assert "Vue d'ensemble" in response.text
    # Choosing a language while signed in saves it as the new preference.
    client.get("/helpdesk/?lang=es")
    db.session.refresh(agent)
    assert agent.locale == "es"


def test_spanish_is_used_everywhere_on_staff_pages(client, make_staff, login):
    agent = make_staff("agent")
    client.get("/staff/login?lang=es")
    login(agent)
    page = client.get("/helpdesk/").text
    for english in ("Overview", "Sign out", "My account", "Skip to main content"):
        assert f">{english}<" not in page
    assert "Cerrar sesión" in page


def test_catalogs_are_complete():
    root = Path(__file__).resolve().parents[2] / "translations"
    assert catalog_problems(root, ("en", "es", "fr", "de")) == []
    for lang in ("es", "fr", "de"):
        assert (root / lang / "LC_MESSAGES" / "messages.mo").exists()


def test_no_translation_is_left_in_english():
    root = Path(__file__).resolve().parents[2] / "translations"
    assert same_as_english(root, ("en", "es", "fr", "de")) == []


def test_same_as_english_reports_unlisted_entries(tmp_path):
    po = tmp_path / "es" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    po.write_text('msgid "PDF"\nmsgstr "PDF"\n\nmsgid "Ticket closed"\nmsgstr "Ticket closed"\n\n'
                  'msgid "Notice"\nmsgstr "Notificación"\n', encoding="utf-8")
    (tmp_path / "same_as_english.txt").write_text("# comment\nes\tPDF\n", encoding="utf-8")
    assert same_as_english(tmp_path, ("en", "es")) == ["es: same as English: 'Ticket closed'"]


def test_translate_check_warns_of_english_left_in_place(app, runner, tmp_path, monkeypatch):
    import portal.cli.translate_cmd as translate_cmd

    monkeypatch.setattr(translate_cmd, "same_as_english",
                        lambda root, langs: ["de: same as English: 'Ticket closed'"])
    result = runner.invoke(args=["translate", "check"])
    assert "warning: de: same as English: 'Ticket closed'" in result.output


def test_translate_check_command_runs(runner):
    result = runner.invoke(args=["translate", "check"])
    assert result.exit_code in (0, 1)
    assert "catalogs complete" in result.output or "translation problems" in result.output


def test_gettext_works_outside_a_request(app):
    from flask_babel import force_locale
    from flask_babel import gettext as _

    assert _("Overview") == "Overview"
    with force_locale("de"):
        assert _("Overview") == "Übersicht"


def test_a_language_named_in_a_sentence_reads_in_the_readers_language(app):
    """"Find an approved answer in English" must read "auf Englisch", not "auf English"."""
    from flask_babel import force_locale

    from portal.core.i18n import language_in_text

    with app.test_request_context():
        expected = {"en": "English", "de": "Englisch", "fr": "anglais", "es": "inglés"}
        for reader, name in expected.items():
            with force_locale(reader):
                assert language_in_text("en") == name
        assert language_in_text("xx-not-a-language") == "xx-not-a-language"
