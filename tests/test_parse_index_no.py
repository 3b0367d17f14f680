"""索引号 normalisation, splitting and GB 11714 / GB 32100 check digits."""

import pytest

from scraper.parse.index_no import check_index_no, normalise, split_index_no, validate_code

REAL_CODES = [
    "113308245972094984",
    "11330000002482031M",
    "114403006955506492",
    "11120000MB1908811Q",
    "000014349",
    "000125014",
    "01527918X",
    "014032126",
    "00298627-2",
]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_are_valid(code):
    assert validate_code(code) is True


# The last one has a correct mod-31 check but its embedded org code 597209497 is wrong.
@pytest.mark.parametrize(
    "code", ["113308245972094985", "11330000002482031N", "000014348", "015279181", "113308245972094971"]
)
def test_corrupted_codes_are_invalid(code):
    assert validate_code(code) is False


def test_other_lengths_are_unchecked():
    assert validate_code("3300001") is None


def test_normalise_full_width_and_spaces():
    assert normalise("１１３３０８２４５９７２０９４９８４／２０２５－０１５２９") == "113308245972094984/2025-01529"
    assert normalise("\u3000 11330000002482031m / 2026-\xa01010578183 ") == "11330000002482031M/2026-1010578183"
    assert normalise("  ") is None and normalise(None) is None


@pytest.mark.parametrize(
    "index_no, parts",
    [
        ("113308245972094984/2025-01529", ("113308245972094984", "2025", "01529")),
        ("11330000002482031M/2026-1010578183", ("11330000002482031M", "2026", "1010578183")),
        ("01527918X-2020-153077", ("01527918X", "2020", "153077")),
        ("00298627-2/202003-00010", ("00298627-2", "202003", "00010")),
        ("K28044908/2026-04277", ("K28044908", "2026", "04277")),
        ("ZJSP-02-2026", None),
    ],
)
def test_split(index_no, parts):
    assert split_index_no(index_no) == parts


def test_check_warnings():
    assert check_index_no("113308245972094984/2025-01529") == []
    assert check_index_no("113308245972094985/2025-01529") == ["index_no check digit invalid"]
    assert check_index_no("XXGK-1") == ["index_no form not recognised"]
