"""Masking of complainant personal data, done on the server before anything leaves it."""

from __future__ import annotations


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
