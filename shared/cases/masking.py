"""Masking of complainant personal data, done on the server before anything leaves it.

Pure rules; shared/cases/views.py applies them when it builds the one view of a
case that the API, the pages and the emails are given.
"""

from __future__ import annotations

from typing import Protocol

from shared.cases.schemas import Complainant


class HasComplainant(Protocol):
    @property
    def complainant_name(self) -> str | None: ...

    @property
    def complainant_phone(self) -> str | None: ...

    @property
    def complainant_id_number(self) -> str | None: ...

    @property
    def complainant_address(self) -> str | None: ...


def mask_name(name: str | None) -> str | None:
    """张三丰 → 张**; a single character stays as it is masked: 张 → *."""
    if not name:
        return name
    if len(name) == 1:
        return "*"
    return name[0] + "*" * (len(name) - 1)


def mask_phone(phone: str | None) -> str | None:
    """13812345678 → 138****5678; short numbers keep only their last 2 digits."""
    if not phone:
        return phone
    digits = phone.strip()
    if len(digits) >= 11:
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    if len(digits) > 4:
        return "*" * (len(digits) - 2) + digits[-2:]
    return "*" * len(digits)


def mask_id_number(id_number: str | None) -> str | None:
    """110101199003074518 → 1101**********4518."""
    if not id_number:
        return id_number
    if len(id_number) <= 8:
        return "*" * len(id_number)
    return id_number[:4] + "*" * (len(id_number) - 8) + id_number[-4:]


def mask_address(address: str | None) -> str | None:
    """Keep the first 6 characters (district level), hide the rest."""
    if not address:
        return address
    keep = min(6, max(len(address) // 2, 1))
    return address[:keep] + "*" * 4


def complainant(case: HasComplainant, *, in_full: bool) -> Complainant:
    """The complainant as a reader sees him: in full, or masked field by field."""
    if in_full:
        return Complainant(name=case.complainant_name, phone=case.complainant_phone,
                           id_number=case.complainant_id_number, address=case.complainant_address, masked=False)
    return Complainant(
        name=mask_name(case.complainant_name),
        phone=mask_phone(case.complainant_phone),
        id_number=mask_id_number(case.complainant_id_number),
        address=mask_address(case.complainant_address),
        masked=True,
    )
