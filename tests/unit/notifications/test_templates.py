"""The mail templates (issue 14 item 3): one file per kind and language; every one renders with sample data in
both languages, with a one-line subject, a plain part and an HTML part; a value a template needs and is not given
is an error, not a blank in someone's mail."""

from __future__ import annotations

import pytest
from jinja2 import UndefinedError

from notifications import mail
from notifications.kinds import KINDS

CASES = mail.template_names()


def test_there_is_a_file_for_every_kind_in_both_languages():
    files = {p.name for p in mail.FOLDER.glob("*.jinja")} - {"_layout.jinja"}
    assert files == {f"{kind}.{lang}.jinja" for kind in (*KINDS, "digest") for lang in ("zh", "en")}


@pytest.mark.parametrize("kind,lang", CASES, ids=[f"{k}.{lang}" for k, lang in CASES])
def test_every_template_renders_in_its_language(kind, lang):
    rendered = mail.render(kind, lang, mail.sample(kind, lang))
    assert rendered.subject and "\n" not in rendered.subject
    assert rendered.text.strip() and "{{" not in rendered.text and "{%" not in rendered.text
    assert (
        rendered.html.startswith("<!doctype html>") and f'lang="{"zh-CN" if lang == "zh" else "en"}"' in rendered.html
    )
    project = mail.sample(kind, lang)["application"]["project_name"]
    if kind != "digest":
        assert project in rendered.subject + rendered.text
    if lang == "zh":
        assert "您好" in rendered.text
    else:
        assert rendered.text.startswith("Dear ")


def test_a_missing_value_is_an_error():
    values = mail.sample("your_turn", "zh")
    del values["application"]
    with pytest.raises(UndefinedError):
        mail.render("your_turn", "zh", values)


def test_a_language_other_than_zh_or_en_is_refused():
    with pytest.raises(ValueError, match="not 'fr'"):
        mail.render("your_turn", "fr", mail.sample("your_turn", "zh"))


def test_the_sandbox_keeps_a_template_out_of_python():
    from jinja2.exceptions import SecurityError

    for source in ("{{ ''.__class__.__mro__ }}", "{{ application.__init__.__globals__ }}"):
        with pytest.raises(SecurityError):
            mail._PLAIN.from_string(source).render(application={"id": 1})
