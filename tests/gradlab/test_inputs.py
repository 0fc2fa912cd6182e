"""The parsing of ids, numbers, keys and text from requests, and the bounded `<id:…>` in URLs."""

import pytest
from django.urls import Resolver404, URLResolver, get_resolver, resolve
from django.urls.converters import IntConverter

from gradlab import inputs


@pytest.mark.parametrize(
    "raw", ["²", "١٢", "-1", "+1", " 1", "1 ", "0x10", "1_0", "1e3", "", None, "1" * 20, "9" * 5000]
)
def test_it_reads_no_number_from_anything_but_ascii_digits_within_64_bits(raw):
    assert inputs.parse_int(raw) is None


def test_it_reads_numbers_within_their_bounds_only():
    assert inputs.parse_int("0") == 0 and inputs.parse_int(str(inputs.MAX_ID)) == inputs.MAX_ID
    assert inputs.parse_int(str(inputs.MAX_ID + 1)) is None
    assert inputs.parse_int("5", low=1, high=4) is None and inputs.parse_int("4", low=1, high=4) == 4
    assert inputs.parse_int(str(inputs.MAX_INT + 1), high=inputs.MAX_INT) is None


def test_it_reads_the_ids_of_a_query_string_in_order_once_each():
    assert inputs.parse_ids(["3", "x", "1", "3", "²", "1" * 23, "2"]) == [3, 1, 2]


@pytest.mark.parametrize("raw", ["vanishing-gradient\x00", "Vanishing", "a b", "../x", "-a", "a" * 51, "", None])
def test_it_reads_a_key_only_as_the_content_files_write_one(raw):
    assert inputs.parse_key(raw) is None


def test_it_refuses_text_with_a_nul_naming_the_field():
    with pytest.raises(inputs.InputError) as refused:
        inputs.parse_text("print(1)\x00", field="code", label="Your code")

    assert refused.value.field == "code" and refused.value.message.startswith("Your code contains a NUL")
    assert inputs.parse_text("print(1)", field="code", label="Your code") == "print(1)"


def test_it_reads_a_token_of_ascii_letters_digits_and_dashes_only():
    assert inputs.parse_token("ab12-_") == "ab12-_"
    assert inputs.parse_token("ab\x00") is None and inputs.parse_token("a" * 65) is None


@pytest.mark.parametrize("run_id", ["1" * 23, str(2**63), "²"])
def test_it_resolves_no_url_for_an_id_beyond_64_bits(run_id):
    with pytest.raises(Resolver404):
        resolve(f"/lab/runs/{run_id}/")


def test_it_resolves_ids_up_to_the_largest_bigint():
    assert resolve(f"/lab/runs/{2**63 - 1}/").kwargs == {"run_id": 2**63 - 1}


def test_every_id_in_a_url_of_the_site_is_bounded():
    def converters(patterns):
        for entry in patterns:
            yield from getattr(entry.pattern, "converters", {}).values()
            if isinstance(entry, URLResolver):
                yield from converters(entry.url_patterns)

    found = list(converters(get_resolver().url_patterns))
    assert any(isinstance(converter, inputs.IdConverter) for converter in found)
    assert not any(isinstance(converter, IntConverter) for converter in found)  # unbounded: use <id:…>
