"""The programme's own words that the printed documents use, read from its definition (programme data).

Who runs the fund and who reviews for it, what the award is called, the fund's name and which documents the
programme prints all come from the programme file (each names its seed section there); no authority's name is
written in code. Definitions published before these keys existed (the @1 versions, still carried by applications
in flight) predate them: `V1_DEFAULTS` stands in for them, in this one place, with the words of
emc-acceptance@1's fund (seed 002 附件3, 附件2).
"""

from __future__ import annotations

from storage.documents import ProgrammeWords
from workflow.definitions import Definition

# emc-acceptance@1 in seed 002's words: 附件3 (the commission, 支持), 附件2 (项目申请表, 验收申请报告), 附件4 (fund).
V1_DEFAULTS = ProgrammeWords(
    authority="上海市经济和信息化委员会",
    reviewer="",
    award="支持",
    fund="上海市工业通信业节能减排和合同能源管理专项资金",
    subprogramme="能源管理中心建设",
    application_form="项目申请表",
    report="验收申请报告",
)


def programme_words(definition: Definition) -> ProgrammeWords:
    """The words of `definition`; a definition without an authority predates them and takes `V1_DEFAULTS`."""
    if not definition.authority:
        return V1_DEFAULTS
    documents = definition.raw.get("documents", {})
    return ProgrammeWords(
        authority=definition.authority["name"],
        reviewer=definition.authority.get("reviewer", ""),
        award=definition.terms["award"],
        fund=definition.fund["name"],
        subprogramme=definition.fund.get("subprogramme", ""),
        application_form=str(documents.get("application_form", "")),
        report=str(documents.get("report", "")),
    )
