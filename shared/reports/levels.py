"""The league table's floors (DESIGN §8): the one rule for red, yellow and green.

Red below `report_red_below` on-time feedback rate, or anything overdue longer
than `report_red_overdue_working_days`; yellow below `report_yellow_below`.  A
department with nothing due has no rate: only its overdue work can colour it.
The weekly figures, the campaign summary and the suggestions all ask here.
"""

from __future__ import annotations

from shared.i18n import N_
from shared.reports.model import Floors, Level, Rate
from shared.settings import Settings

BELOW_RED = N_("report.level.below_red")
BELOW_YELLOW = N_("report.level.below_yellow")
OVERDUE_TOO_LONG = N_("report.level.overdue_too_long")


def floors(settings: Settings) -> Floors:
    return Floors(red_below=settings.report_red_below, yellow_below=settings.report_yellow_below,
                  red_overdue_working_days=settings.report_red_overdue_working_days)


def level_for(on_time: Rate, max_working_days_overdue: int, limits: Floors) -> tuple[Level, list[str]]:
    """The level and, when not green, why (message keys), most serious first.

    The reasons' messages take `floor` (e.g. "80%") and `days` parameters: see `reason_text`.
    """
    reasons: list[str] = []
    if on_time.value is not None and on_time.value < limits.red_below:
        reasons.append(BELOW_RED)
    if max_working_days_overdue > limits.red_overdue_working_days:
        reasons.append(OVERDUE_TOO_LONG)
    if reasons:
        return Level.RED, reasons
    if on_time.value is not None and on_time.value < limits.yellow_below:
        return Level.YELLOW, [BELOW_YELLOW]
    return Level.GREEN, []


def reason_text(reason: str, limits: Floors, lang: str) -> str:
    from shared.i18n import message

    return message(reason, lang, days=limits.red_overdue_working_days,
                   floor=f"{(limits.red_below if reason == BELOW_RED else limits.yellow_below):.0%}")
