"""Names are compared by what people see, and no control character reaches the database.

`Stingray`, `Stingrаy` (Cyrillic а) and `\u202eyargnitS` (right-to-left override) all display as
"Stingray": they must be one tool. Text fields lose NUL and other control characters."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from workflows.cleaning import clean_line, clean_name, clean_text
from workflows.directive_model import DirectiveDraft
from workflows.errors import InvalidInput
from workflows.lookalike import mixed_scripts, skeleton
from workflows.registry import match_tools, new_tool, same_tool, with_alias
from workflows.requests import INVISIBLE_NAME, PriorUse, RequestDraft
from workflows.tool_names import lookalikes, mixed_script_warning, normalise_name, tool_key

LATIN = "Stingray"
CYRILLIC_A = "Stingr\u0430y"  # а: CYRILLIC SMALL LETTER A
RTL_OVERRIDE = "\u202eyargnitS"  # shown right to left: "Stingray"

LOOKALIKES_OF_STINGRAY = [
    CYRILLIC_A,
    RTL_OVERRIDE,
    "\u202eyargnitS\u202c",  # closed by POP DIRECTIONAL FORMATTING
    "\uff33\uff54\uff49\uff4e\uff47\uff52\uff41\uff59",  # fullwidth Ｓｔｉｎｇｒａｙ
    "Sting\u200dray",  # ZERO WIDTH JOINER
    "Sting\u200bray",  # ZERO WIDTH SPACE
    "Sting\u00adray",  # SOFT HYPHEN
    "\ufeffStingray",  # BYTE ORDER MARK
    "Stingr\u03b1y",  # α: GREEK SMALL LETTER ALPHA
    "\u0405tingray",  # Ѕ: CYRILLIC CAPITAL LETTER DZE
    "STINGRAY",
    "Sting ray",
    "\u2067Stingray\u2069",  # inside an isolate
]


def test_the_three_names_of_the_issue_are_one_tool() -> None:
    tool = new_tool(LATIN)
    assert same_tool(CYRILLIC_A, tool) and same_tool(RTL_OVERRIDE, tool)
    assert same_tool(LATIN, new_tool(CYRILLIC_A)) and same_tool(LATIN, new_tool(RTL_OVERRIDE))
    assert tool_key(RTL_OVERRIDE) == tool_key(LATIN) == "stingray"


@pytest.mark.parametrize("name", LOOKALIKES_OF_STINGRAY)
def test_look_alikes_are_filed_under_one_tool_and_found_exactly(name: str) -> None:
    tool = new_tool(LATIN)
    assert same_tool(name, tool), name
    assert match_tools(name, [tool, new_tool("Stingrey"), new_tool("Sting")])[0] == (tool, 100.0)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("\u0391\u03a1\u03a1L\u0395", "APPLE"),  # Greek capitals alpha, rho, rho, epsilon
        ("\u0397ELLO", "HELLO"),  # Greek capital eta
        ("\u03bfpenai", "openai"),  # Greek omicron
        ("Cl\u0435arview", "Clearview"),  # Cyrillic е
        ("Clearv\u0456ew", "Clearview"),  # Cyrillic і
        ("\uff27\uff52\uff41\uff59\uff2b\uff45\uff59", "GrayKey"),  # fullwidth
        ("Gray\u2060Key", "GrayKey"),  # WORD JOINER
        ("paypa1", "paypal"),  # digit one for small L
    ],
)
def test_more_look_alikes(one: str, other: str) -> None:
    assert not lookalikes(one).isdisjoint(lookalikes(other)), (one, other)
    assert same_tool(one, new_tool(other)) and same_tool(other, new_tool(one))


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Stingray", "Stingrey"),
        ("Clearview", "Clearveiw"),
        ("GrayKey", "Gray"),
        ("\u0391\u03a1\u03a1\u039b\u0395", "APPLE"),  # Greek lambda is no L
    ],
)
def test_different_names_stay_different(one: str, other: str) -> None:
    assert not same_tool(one, new_tool(other))


def test_a_look_alike_alias_is_kept_and_still_finds_the_tool() -> None:
    tool = with_alias(new_tool(LATIN), CYRILLIC_A)
    assert len(tool.aliases) == 2 and same_tool(LATIN, tool) and same_tool(CYRILLIC_A, tool)


def test_skeleton_is_unicodes() -> None:
    assert skeleton("Stingr\u0430y") == skeleton("Stingray")
    assert skeleton("m") == skeleton("rn")  # the classic


# --- what is stored -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (RTL_OVERRIDE, "Stingray"),  # the name people saw, not the bytes typed
        ("\u202eyargnitS\u202c Pro", "Stingray Pro"),
        ("Sting\u200dray\u200b", "Stingray"),
        ("\uff33\uff54\uff49\uff4e\uff47\uff52\uff41\uff59", "Stingray"),
        ("  Clearview \u00a0 AI\n", "Clearview AI"),
        ("Clear\x00view\x07", "Clearview"),
        ("\tCellebrite\r\n UFED  4 ", "Cellebrite UFED 4"),  # plain ASCII, its white space made one line
        ("Cellebrite\x1b[0m UFED\x7f", "Cellebrite[0m UFED"),  # ASCII controls go too
        ("\u2067\u0645\u0631\u062d\u0628\u0627\u2069", "\u0645\u0631\u062d\u0628\u0627"),  # isolate: kept in order
        (CYRILLIC_A, CYRILLIC_A),  # a real letter is kept; it is flagged instead
    ],
)
def test_clean_name(typed: str, stored: str) -> None:
    assert clean_name(typed) == stored
    assert new_tool(typed).name == stored


def test_new_tool_stores_no_format_character() -> None:
    tool = new_tool("\u202a\u202bSting\u2066ray\u2069\u202c\u202c")
    assert tool.name == "Stingray" and tool.key == "stingray"


@pytest.mark.parametrize(
    ("typed", "multi", "line"),
    [
        ("a\x00b", "ab", "ab"),
        ("line one\r\nline two\rthree", "line one\nline two\nthree", "line one line two three"),
        ("tab\there", "tab\there", "tab here"),
        ("bell\x07 esc\x1b[31m del\x7f c1\x85\x9b", "bell esc[31m del c1", "bell esc[31m del c1"),
        ("lone \ud800 surrogate", "lone  surrogate", "lone surrogate"),
        ("\u202ereversed\u202c text", "reversed text", "reversed text"),
        ("para\u2029graph", "para\ngraph", "para graph"),
        ("emoji \U0001f469\u200d\U0001f4bb kept", "emoji \U0001f469\u200d\U0001f4bb kept", None),
        ("zero\u200bwidth\u2060 word\ufeff joiner\u00ad", "zerowidth word joiner", "zerowidth word joiner"),
        ("\u200b" * 12, "", ""),  # nothing anyone could see: empty, so a required field is refused
        ("\u2060 \u200d\n\u200c ", "", ""),
    ],
)
def test_clean_text(typed: str, multi: str, line: str | None) -> None:
    assert clean_text(typed) == multi
    if line is not None:
        assert clean_line(typed) == line
    assert "\x00" not in clean_text(typed, multiline=False)


@pytest.mark.parametrize("multiline", [True, False])
def test_ascii_text_is_cleaned_as_any_text_is(multiline: bool) -> None:
    """ASCII text takes a shorter way (workflows/cleaning.py): every ASCII character, alone and
    between words, comes out as the character-by-character rule gives it, NUL and DEL included;
    a text of only white space and controls is empty."""
    for code in range(128):
        c = "\n" if code == 0x0D else chr(code)  # a carriage return is a line break
        kept = c in "\n\t" and multiline or (c.isprintable() and code != 0x7F)
        typed_c = chr(code)
        cases = ((f"a{typed_c}b", f"a{c}b" if kept else "ab"), (f" {typed_c}\x00 ", c.strip() if kept else ""))
        for typed, expected in cases:
            wanted = expected if multiline else " ".join(expected.split())
            assert clean_text(typed, multiline=multiline) == wanted, (code, typed)
    assert clean_text("\x07\x1f\x7f  \n") == ""


def _draft(**fields) -> RequestDraft:
    values = {
        "tool_name": "Stingray",
        "vendor": "Harris",
        "purpose": "Locate a phone in a kidnapping case.",
        "data_kinds": ("location",),
        "prior_use": PriorUse.NONE,
    }
    return RequestDraft(**{**values, **fields})


def test_a_request_form_loses_control_characters_in_every_field() -> None:
    draft = _draft(
        tool_name="\u202eyargnitS\x00",
        vendor="Harris\x00 Corp",
        purpose="Locate a phone\x00 in a\x1b kidnapping case.\nUrgent.",
        case_number="2026-\x00001",
        notes="\x00\x01\x02",
    ).cleaned()
    assert draft == _draft(
        tool_name="Stingray",
        vendor="Harris Corp",
        purpose="Locate a phone in a kidnapping case.\nUrgent.",
        case_number="2026-001",
        notes="",
    )


@pytest.mark.parametrize("name", ["\u202e\u202c", "\u200b\u200d", "\x00\x00", "\ufeff"])
def test_a_name_of_only_invisible_characters_gets_a_clear_field_error(name: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        _draft(tool_name=name).cleaned()
    assert refused.value.errors == {"tool_name": INVISIBLE_NAME}
    with pytest.raises(InvalidInput) as refused:
        DirectiveDraft("cease_use", name, "Stop.", ("C1",)).cleaned(datetime.now(UTC))
    assert refused.value.errors == {"tool": INVISIBLE_NAME}


def test_a_directive_draft_loses_control_characters() -> None:
    draft = DirectiveDraft("cease_use", "\u202eyargnitS", "Stop\x00 now.\n\tAll units.", ("C1\x00",))
    cleaned = draft.cleaned(datetime.now(UTC))
    assert (cleaned.tool, cleaned.text, cleaned.channels) == ("Stingray", "Stop now.\n\tAll units.", ("C1",))


# --- mixed scripts -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "mixed"),
    [
        (CYRILLIC_A, ("Cyrillic", "Latin")),
        ("Stingr\u03b1y", ("Greek", "Latin")),
        (LATIN, ()),
        (RTL_OVERRIDE, ()),
        ("\u0421\u043e\u0432\u0430", ()),  # Сова: all Cyrillic
        ("\u30dd\u30b1\u30e2\u30f3GO \u56f3\u9451", ()),  # Japanese with Latin: one writing system
        ("Cellebrite UFED 4PC", ()),  # digits are no script
        ("\uff33\uff54\uff49\uff4e\uff47\uff52\uff41\uff59", ()),  # fullwidth Latin is Latin
    ],
)
def test_mixed_scripts(name: str, mixed: tuple[str, ...]) -> None:
    assert mixed_scripts(name) == mixed
    warning = mixed_script_warning(name)
    assert (warning is not None) == bool(mixed)
    if mixed:
        assert " and ".join(mixed) in warning


def test_normalise_name_starts_from_what_people_see() -> None:
    assert normalise_name(RTL_OVERRIDE) == normalise_name("Sting\u200dray") == "stingray"
