"""`gongzhi report campaign ID --out DIR` — the campaign summary (活动总结) as a Word draft.

The `report` group is shared with the weekly report's commands: whichever
module registers first creates it (`report_group`), the others add to it.
"""

from __future__ import annotations

from pathlib import Path

import typer

from shared.actors import SYSTEM
from shared.clock import system_clock
from shared.db import session_scope
from shared.errors import DomainError
from shared.i18n import LANGUAGES, N_, translate
from shared.reports import campaign
from shared.reports.render import campaign_docx
from shared.settings import get_settings

REPORT_GROUP = "report"


def report_group(app: typer.Typer) -> typer.Typer:
    """The `gongzhi report` group: the one already registered, or a new one."""
    for info in app.registered_groups:
        if info.name == REPORT_GROUP and info.typer_instance is not None:
            return info.typer_instance
    group = typer.Typer(help="报表 / reports", no_args_is_help=True)
    app.add_typer(group, name=REPORT_GROUP)
    return group


def _fail(key: str, **params: object) -> typer.Exit:
    typer.echo(translate(key, "zh-CN", **params), err=True)
    return typer.Exit(2)


def register(app: typer.Typer) -> None:
    group = report_group(app)

    @group.command("campaign")
    def campaign_summary(
        campaign_id: int = typer.Argument(..., help="专项行动 id / campaign id", min=1),
        out: Path = typer.Option(Path("."), "--out", help="写入的目录 / directory to write to",
                                 file_okay=False, dir_okay=True),
        lang: str = typer.Option("zh-CN", "--lang", help="zh-CN | en"),
    ) -> None:
        """活动总结 (.docx) of one campaign, drafted from the data."""
        if lang not in LANGUAGES:
            raise _fail(N_("cli.report.bad_language"), value=lang, allowed=", ".join(LANGUAGES))
        try:
            with session_scope() as session:
                summary = campaign.summary(session, system_clock(), SYSTEM, campaign_id, get_settings())
        except DomainError as exc:
            key = N_("campaign_unknown") if exc.status == 404 else exc.key
            raise _fail(key, ids=str(campaign_id), **exc.params) from None
        out.mkdir(parents=True, exist_ok=True)
        target = out / campaign_docx.file_name(summary, lang)
        target.write_bytes(campaign_docx.render(summary, lang))
        typer.echo(str(target))
