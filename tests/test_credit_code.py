"""统一社会信用代码 check characters (GB 32100-2015) on real published codes and mutations."""

from __future__ import annotations

import pytest

from shared.cases.credit_code import (
    ALPHABET,
    check_character,
    is_valid_credit_code,
    normalize_credit_code,
    with_check_character,
)

# Published on the national enterprise credit information system; each checked by hand
# against the algorithm before being relied on here.
REAL_CODES = [
    "91350100M000100Y43",  # the example code used in GB 32100-2015 explanations
    "914403001922038216",  # 华为技术有限公司 (ends in a digit)
    "91330100799655058B",  # 阿里巴巴（中国）有限公司
    "91440300708461136T",  # 深圳市腾讯计算机系统有限公司
    "91110108551385082Q",  # 北京小米科技有限责任公司
    "91110000710926094P",  # 中国石油化工股份有限公司
]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_are_valid(code: str) -> None:
    assert is_valid_credit_code(code)
    assert with_check_character(code[:17]) == code


@pytest.mark.parametrize("code", REAL_CODES)
def test_every_single_character_change_is_caught(code: str) -> None:
    """Weights are powers of 3 mod the prime 31: any one substitution changes the check."""
    for i in range(18):
        for ch in ALPHABET:
            if ch != code[i]:
                mutated = code[:i] + ch + code[i + 1:]
                assert not is_valid_credit_code(mutated), mutated


@pytest.mark.parametrize("code", REAL_CODES)
def test_adjacent_transpositions_are_caught(code: str) -> None:
    for i in range(17):
        if code[i] != code[i + 1]:
            swapped = code[:i] + code[i + 1] + code[i] + code[i + 2:]
            assert not is_valid_credit_code(swapped), swapped


@pytest.mark.parametrize(
    "code",
    [
        "911100001000000000",  # right shape, wrong check character (R expected)
        "91350100M000100Y4",  # 17 characters
        "91350100M000100Y433",  # 19 characters
        "",
        "91350100M000100Y4I",  # I is not in the alphabet
        "9135010OM000100Y43",  # O instead of 0
        "91350100S000100Y43",  # S, V, Z are excluded too
        "91350100m000100y43",  # lower case: normalise first
        " 91350100M000100Y43",
        "９１３５０１００Ｍ０００１００Ｙ４３",  # full-width digits and letters
    ],
)
def test_malformed_codes_are_refused(code: str) -> None:
    assert not is_valid_credit_code(code)


def test_normalising_what_people_type() -> None:
    assert normalize_credit_code(" 91350100m000100y43 ") == "91350100M000100Y43"
    assert normalize_credit_code("9135 0100 M000 100Y 43") == "91350100M000100Y43"
    assert is_valid_credit_code(normalize_credit_code("91330100799655058b"))


def test_check_character_zero_when_sum_is_a_multiple_of_31() -> None:
    # All zeros sums to 0: 31 - 0 = 31 → 0.
    assert check_character("0" * 17) == "0"
    assert is_valid_credit_code("0" * 18)


def test_factory_helper_refuses_bad_input() -> None:
    with pytest.raises(ValueError):
        with_check_character("91350100M000100Y")  # 16
    with pytest.raises(ValueError):
        with_check_character("91350100I000100Y4")  # I
    for body in ("911100007777777777"[:17], "93440300MA5D00000"):
        assert is_valid_credit_code(with_check_character(body))
