"""Binding a .docx as 附件4 of seed 002 prescribes, for any binder: a cover in its own unnumbered section, pages
numbered from 1 at the bottom right after it, a contents page (a TOC field in 三号仿宋, single spacing, with its
entries written so a reader without field updates sees them), headings the contents list, page breaks.
"""

from __future__ import annotations

from typing import Any

from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.text.paragraph import Paragraph

from storage.documents import FANGSONG, HEITI, SANHAO, east_asian_font

TEXT_WIDTH = Cm(21.0 - 2 * 3.17)  # A4 less 附件4's left and right margins
PICTURE_HEIGHT = Cm(29.7 - 2 * 2.54 - 3.0)  # A4 less its top and bottom margins, a heading and the footer
TOC_INSTRUCTION = 'TOC \\o "1-2" \\h \\z \\u'


def _char(kind: str) -> Any:
    element = OxmlElement("w:fldChar")
    element.set(qn("w:fldCharType"), kind)
    return element


def field_start(paragraph: Any, instruction: str, *, font: str = FANGSONG, size: Pt = SANHAO) -> None:
    """A Word field's beginning (PAGE, TOC): begin, its instruction, separate; what it shows follows."""
    east_asian_font(paragraph, "", font=font, size=size)
    paragraph.runs[-1]._r.append(_char("begin"))
    east_asian_font(paragraph, "", font=font, size=size)
    text = OxmlElement("w:instrText")
    text.set(qn("xml:space"), "preserve")
    text.text = f" {instruction} "
    paragraph.runs[-1]._r.append(text)
    east_asian_font(paragraph, "", font=font, size=size)
    paragraph.runs[-1]._r.append(_char("separate"))


def field_end(paragraph: Any, *, font: str = FANGSONG, size: Pt = SANHAO) -> None:
    east_asian_font(paragraph, "", font=font, size=size)
    paragraph.runs[-1]._r.append(_char("end"))


def update_fields_on_open(doc: Any) -> None:
    """Ask Word to fill the contents and page fields when the file opens (LibreOffice does so on conversion)."""
    settings = doc.settings.element
    update = OxmlElement("w:updateFields")
    update.set(qn("w:val"), "true")
    settings.append(update)


def toc_styles(doc: Any) -> None:
    """The contents' entries in 三号仿宋, single spacing (附件4 四、3)."""
    for level in (1, 2):
        name = f"toc {level}"
        try:
            style = doc.styles[name]
        except KeyError:
            style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.font.name, style.font.size = FANGSONG, SANHAO
        style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FANGSONG)
        style.paragraph_format.line_spacing = 1.0
        style.paragraph_format.left_indent = Cm(0.74 * (level - 1))


def heading(doc: Any, text: str, level: int, entries: list[tuple[int, str]]) -> None:
    paragraph = doc.add_paragraph(style=f"Heading {level}")
    east_asian_font(paragraph, text, font=HEITI, size=SANHAO if level == 1 else Pt(14), bold=True)
    entries.append((level, text))


def page_break(doc: Any) -> None:
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def picture(doc: Any, image: Any, width_px: int, height_px: int) -> None:
    """An image as large as the text area allows, its proportions kept (a tall page is fitted by its height)."""
    if height_px * TEXT_WIDTH > width_px * PICTURE_HEIGHT:
        doc.add_picture(image, height=PICTURE_HEIGHT)
    else:
        doc.add_picture(image, width=TEXT_WIDTH)


def cover(doc: Any, lines: list[tuple[str, str, Pt, bool]]) -> None:
    """A cover: some space, then each (text, font, size, bold) centred; an empty text is a blank line."""
    for _ in range(4):
        doc.add_paragraph()
    for text, font, size, bold in lines:
        paragraph = doc.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        if text:
            east_asian_font(paragraph, text, font=font, size=size, bold=bold)


def numbered_from_one(section: Any) -> None:
    """The section's pages numbered from 1 at the bottom right (the cover before it carries none)."""
    section.footer.is_linked_to_previous = False
    number = OxmlElement("w:pgNumType")
    number.set(qn("w:start"), "1")
    section._sectPr.append(number)
    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    field_start(paragraph, "PAGE", size=Pt(10.5))
    east_asian_font(paragraph, "1", size=Pt(10.5))
    field_end(paragraph, size=Pt(10.5))


def contents(doc: Any) -> Any:
    """The contents page's title and the TOC field's start; its entries are written when the headings are known."""
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.line_spacing = 1.0
    east_asian_font(title, "目  录", font=FANGSONG, size=SANHAO)
    paragraph = doc.add_paragraph()
    paragraph.paragraph_format.line_spacing = 1.0
    field_start(paragraph, TOC_INSTRUCTION)
    return paragraph


def fill_contents(start: Any, entries: list[tuple[int, str]]) -> None:
    """The TOC field's shown entries (the headings, without page numbers: Word adds them when it updates the
    field on opening; LibreOffice shows these), then the field's end."""
    after = start._p
    for level, text in [*entries, (0, "")]:
        element = OxmlElement("w:p")
        after.addnext(element)
        after = element
        paragraph = Paragraph(element, start._parent)
        paragraph.paragraph_format.line_spacing = 1.0
        if level:
            paragraph.style = f"toc {level}"
            east_asian_font(paragraph, text, font=FANGSONG, size=SANHAO)
        else:
            field_end(paragraph)
