"""统一社会信用代码 — the unified social credit code of GB 32100-2015.

18 characters from a 31-character alphabet (digits and capital letters
without I, O, Z, S, V).  The 18th is a check character: with each of the first
17 characters valued by its position in the alphabet and weighted by 3^i mod 31
(1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28), the check
value is 31 − (Σ mod 31), and 31 becomes 0.

Only the structure and the check character are verified; whether a code was
ever issued is a matter for the registration authority.
"""

from __future__ import annotations

from shared.i18n import N_

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH = 18
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}


def check_character(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters.

    Raises ValueError if `first17` is not 17 characters of the alphabet.
    """
    if len(first17) != LENGTH - 1 or any(ch not in _VALUE for ch in first17):
        raise ValueError(N_("credit_code_invalid"))
    total = sum(_VALUE[ch] * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def with_check_character(first17: str) -> str:
    """The full 18-character code (for factories and demo data)."""
    return first17 + check_character(first17)


def normalize_credit_code(code: str) -> str:
    """What people type → the canonical form: no surrounding or inner spaces, upper case."""
    return "".join(code.split()).upper()


def is_valid_credit_code(code: str) -> bool:
    """True if `code` is 18 characters of the alphabet with the right check character.

    Strict: lower case is refused (normalise with `normalize_credit_code` first).
    """
    if not isinstance(code, str) or len(code) != LENGTH:
        return False
    try:
        return check_character(code[:17]) == code[17]
    except ValueError:
        return False


def may_still_become_valid(code: str) -> bool:
    """True while `code` is a valid beginning: shorter than 18 and only characters of the alphabet.

    What a form checking as you type uses to stay quiet until the code is complete.
    """
    return len(code) < LENGTH and all(ch in _VALUE for ch in code)
