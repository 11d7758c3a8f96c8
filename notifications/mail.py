"""Mail from the template files (`templates/<kind>.<lang>.jinja`): a subject, a plain part and an HTML part.

One file per kind and language holds all three as blocks. It is compiled twice, once escaping nothing (subject and
plain text) and once escaping HTML, so a project name with `<` in it is text in both. The environments are
sandboxed: a template is data an administrator may edit, and must not reach into Python.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from notifications.kinds import KINDS

FOLDER = Path(__file__).with_name("templates")
LANGS = ("zh", "en")
DIGEST = "digest"  # the day's digest of held mail: a template, not a kind of notification


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def _environment(escape: bool) -> SandboxedEnvironment:
    return SandboxedEnvironment(
        loader=FileSystemLoader(FOLDER),
        autoescape=escape,
        undefined=StrictUndefined,  # a missing value is an error in a test, not a blank in someone's mail
        trim_blocks=escape,  # HTML: tags leave no blank lines; plain text: a tag's line break is the paragraph's
        lstrip_blocks=escape,
        keep_trailing_newline=False,
    )


_PLAIN, _HTML = _environment(False), _environment(True)


def template_names() -> list[tuple[str, str]]:
    """Every (kind or digest, language) there must be a file for."""
    return [(name, lang) for name in (*KINDS, DIGEST) for lang in LANGS]


def _block(env: SandboxedEnvironment, name: str, block: str, values: dict[str, Any]) -> str:
    template = env.get_template(name)
    context = template.new_context(values)
    return "".join(template.blocks[block](context))


def render(kind: str, lang: str, values: dict[str, Any]) -> Rendered:
    """The mail for `kind` in `lang` ('zh' or 'en') from `values` (what `sample` shows for each kind)."""
    if lang not in LANGS:
        raise ValueError(f"language must be one of {', '.join(LANGS)}, not '{lang}'")
    name = f"{kind}.{lang}.jinja"
    values = {"lang": lang, "programme": "", "link": "", "note": "", "due_on": None, **values}
    subject = " ".join(_block(_PLAIN, name, "subject", values).split())  # one line, whatever the template's layout
    text = _block(_PLAIN, name, "text", values).strip() + "\n"
    html = _HTML.get_template(name).render(values)  # the layout's frame around the kind's content
    return Rendered(subject, text, html)


def sample(kind: str, lang: str) -> dict[str, Any]:
    """Made-up values for previews and the test that renders every template."""
    zh = lang == "zh"
    application = {
        "id": 1024,
        "reference": "EMC-2026-PD-0007",
        "project_name": "能源管理中心建设项目" if zh else "Energy management centre",
        "organisation": "上海示例制造有限公司" if zh else "Shanghai Example Manufacturing Co.",
        "state": "待区级预审" if zh else "District pre-review",
    }
    day = dt.date(2026, 12, 7)
    link = "https://emc.example.gov.cn/applications/1024"
    values: dict[str, Any] = {
        "recipient": "张三" if zh else "Zhang San",
        "programme": "上海市工业通信业节能减排和合同能源管理专项资金" if zh else "Shanghai energy-saving special fund",
        "application": application,
        "event_label": "提交申请" if zh else "Submitted",
        "note": "1. 补充近三年能源审计报告\n2. 补充计量器具清单" if zh else "1. Add the last three years' audits",
        "due_on": None,
        "link": link,
        "visit": {"when": "2026-12-10 09:30", "place": "浦东新区示例路1号" if zh else "1 Example Road, Pudong"},
        "days_left": 3,
        "waited_days": 6,
        "day": day.isoformat(),
        "items": [{**application, "link": link, "waited_days": 2, "due_on": "2026-12-18"}],
        "entries": [
            {
                "kind": KINDS["status_changed"].label(lang),
                "application_id": 1024,
                "project_name": application["project_name"],
                "event": "提交申请" if zh else "Submitted",
                "link": link,
            }
        ],
    }
    if kind in ("deadline_near", "your_turn"):
        values["due_on"] = "2026-12-18"
    if kind not in ("your_turn", "status_changed"):
        values["note"] = ""
    return values
