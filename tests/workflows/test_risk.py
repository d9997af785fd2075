"""The risk rules, table-driven: every rule, every tier boundary, and the three anchor cases."""

from __future__ import annotations

import pytest

from workflows.errors import InvalidInput
from workflows.risk import QUESTIONS, Tier, validate_answers
from workflows.risk_assessment import WEIGHTS, Assessment, assess, max_score, score
from workflows.risk_rules import DEFAULT_RULES, Rule, merge_rules, rule_problems

# The quietest possible answers: nothing fires, score 0, minimal.
QUIET = {
    "in_use": "no",
    "data_kinds": ("none",),
    "data_source": "ours",
    "identifies_people": "no",
    "live_public": "no",
    "predicts_offending": "no",
    "infers_protected": "no",
    "lawful_authority": "confirmed",
    "hosting": "on_premises",
    "vendor_keeps_uploads": "no",
    "human_review": "always",
}

CLEARVIEW = {
    **QUIET,
    "in_use": "trial",
    "data_kinds": ("biometric", "images_video", "social_media", "non_suspects"),
    "data_source": "scraped",
    "identifies_people": "one_to_many",
    "lawful_authority": "to_confirm",
    "hosting": "foreign",
    "vendor_keeps_uploads": "yes",
    "human_review": "sometimes",
}
TRANSCRIPTION = {
    **QUIET,
    "data_kinds": ("personal_info",),
    "data_source": "licensed",
    "hosting": "canada",
}
SPREADSHEET_MACRO = {**QUIET, "in_use": "yes"}


def with_(**changes):
    return {**QUIET, **changes}


# --- the anchors -----------------------------------------------------------------------------


def test_a_clearview_type_tool_is_prohibited_by_p1_before_anything_is_scored():
    result = assess(CLEARVIEW)
    assert result.tier is Tier.PROHIBITED
    assert result.rule_ids[0] == "P1"  # prohibitions come first
    assert set(result.rule_ids) == {"P1", "H1", "H2", "H3", "H4"}
    assert result.fired[0].triggers == {"data_source": ("scraped",)}
    assert result.fired[0].text == "P1 — the vendor's reference data was collected without consent"
    assert result.score_tier is Tier.MODERATE  # the score alone would have let it through


@pytest.mark.parametrize("lawful", ["confirmed", "to_confirm"])
@pytest.mark.parametrize("in_use", ["no", "trial", "yes"])
def test_a_transcription_service_hosted_in_canada_is_moderate(in_use, lawful):
    result = assess({**TRANSCRIPTION, "in_use": in_use, "lawful_authority": lawful})
    assert result.tier is Tier.MODERATE
    assert result.fired == ()


@pytest.mark.parametrize("source", ["ours", "licensed"])
def test_a_transcription_service_is_moderate_with_either_lawful_source(source):
    assert assess({**TRANSCRIPTION, "data_source": source}).tier is Tier.MODERATE


def test_an_offline_spreadsheet_macro_is_minimal():
    result = assess(SPREADSHEET_MACRO)
    assert result.tier is Tier.MINIMAL
    assert result.fired == () and result.score == 2 and result.max_score == 55


# --- every rule ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule_id", "answers", "triggers"),
    [
        ("P1", with_(data_source="scraped"), {"data_source": ("scraped",)}),
        ("P2", with_(live_public="yes"), {"live_public": ("yes",)}),
        ("P3", with_(predicts_offending="yes"), {"predicts_offending": ("yes",)}),
        ("P4", with_(infers_protected="yes"), {"infers_protected": ("yes",)}),
        ("P5", with_(lawful_authority="none"), {"lawful_authority": ("none",)}),
        ("H1", with_(identifies_people="one_to_many"), {"identifies_people": ("one_to_many",)}),
        ("H2", with_(data_kinds=("biometric",)), {"data_kinds": ("biometric",)}),
        (
            "H3",
            with_(hosting="foreign", data_kinds=("location", "licence_plates")),
            {"hosting": ("foreign",), "data_kinds": ("licence_plates", "location")},
        ),
        ("H4", with_(vendor_keeps_uploads="yes"), {"vendor_keeps_uploads": ("yes",)}),
        (
            "H5",
            with_(identifies_people="assists", human_review="never"),
            {"identifies_people": ("assists",), "human_review": ("never",)},
        ),
    ],
)
def test_each_rule_fires_alone_with_the_answers_that_triggered_it(rule_id, answers, triggers):
    result = assess(answers)
    expected = Tier.PROHIBITED if rule_id.startswith("P") else Tier.HIGH
    assert result.rule_ids == (rule_id,)
    assert result.fired[0].triggers == triggers
    assert result.tier is expected


@pytest.mark.parametrize(
    ("answers", "why"),
    [
        (with_(hosting="foreign"), "H3 needs personal data, not only foreign hosting"),
        (with_(data_kinds=("personal_info",), hosting="canada"), "H3 needs foreign hosting"),
        (with_(identifies_people="assists", human_review="sometimes"), "H5 needs no review at all"),
        (with_(identifies_people="no", human_review="never"), "H5 needs output that identifies people"),
        (with_(data_source="unknown"), "unknown is not scraped"),
        (with_(lawful_authority="to_confirm"), "to_confirm is not none"),
        (with_(vendor_keeps_uploads="unknown"), "unknown is not yes"),
        (with_(identifies_people="assists"), "assisting is not one-to-many"),
    ],
)
def test_near_misses_fire_nothing(answers, why):
    assert assess(answers).fired == (), why


def test_one_to_many_without_review_fires_h1_and_h5():
    result = assess(with_(identifies_people="one_to_many", human_review="never"))
    assert result.rule_ids == ("H1", "H5")


def test_prohibitions_are_listed_before_high_triggers_whatever_the_rule_order():
    rules = tuple(reversed(DEFAULT_RULES))
    result = assess(with_(identifies_people="one_to_many", predicts_offending="yes"), rules)
    assert result.rule_ids == ("P3", "H1")


# --- the score and its boundaries ------------------------------------------------------------


def test_the_maximum_is_every_question_at_its_heaviest():
    assert max_score() == 55
    heaviest = {q: tuple(w) if q == "data_kinds" else max(w, key=w.get) for q, w in WEIGHTS.items()}
    heaviest["data_kinds"] = tuple(k for k in WEIGHTS["data_kinds"] if k != "none")
    assert score(heaviest) == 55  # several kinds of data are capped


def test_every_answer_has_a_weight_and_every_question_a_plain_explanation():
    for q in QUESTIONS:
        assert set(WEIGHTS[q.id]) == set(q.values)
        for option in q.options:  # Slack's limit for an option's text and description is 75
            assert option.explanation and "\n" not in option.explanation and len(option.explanation) <= 75
            assert 0 < len(option.label) <= 75


# Points on a maximum of 55: moderate from 10 % (5.5 → 6 points), low from 5 % (2.75 → 3 points).
@pytest.mark.parametrize(
    ("answers", "points", "tier"),
    [
        (with_(), 0, Tier.MINIMAL),
        (with_(in_use="yes"), 2, Tier.MINIMAL),  # highest minimal
        (with_(in_use="trial", lawful_authority="to_confirm"), 3, Tier.LOW),  # lowest low by score
        (with_(hosting="canada"), 3, Tier.LOW),
        (with_(in_use="yes", hosting="canada"), 5, Tier.LOW),  # highest low
        (with_(in_use="trial", data_kinds=("location",), data_source="licensed"), 5, Tier.LOW),
        (with_(in_use="trial", hosting="foreign"), 6, Tier.MODERATE),  # lowest moderate
        (with_(data_kinds=("personal_info",), hosting="canada"), 6, Tier.MODERATE),
        (with_(identifies_people="assists", human_review="sometimes", in_use="yes"), 7, Tier.MODERATE),
    ],
)
def test_tier_boundaries_of_the_score(answers, points, tier):
    result = assess(answers)
    assert result.fired == ()
    assert (result.score, result.tier) == (points, tier)


@pytest.mark.parametrize(
    "answers",
    [
        with_(data_kinds=("personal_info",)),  # personal data on our own machines
        with_(hosting="canada"),  # no personal data, but it leaves the building
    ],
)
def test_minimal_needs_no_personal_data_and_nothing_leaving_the_premises(answers):
    result = assess(answers)
    assert result.score * 100 < 10 * result.max_score
    assert result.tier is Tier.LOW


def test_the_higher_of_rule_and_score_wins():
    high_by_rule = assess(with_(vendor_keeps_uploads="yes"))  # 5 points: low by score
    assert (high_by_rule.score_tier, high_by_rule.tier) == (Tier.LOW, Tier.HIGH)
    low_rule = Rule("L1", "it is on trial", {"in_use": {"trial"}}, Tier.LOW)
    moderate_by_score = assess(with_(in_use="trial", hosting="foreign"), (*DEFAULT_RULES, low_rule))
    assert moderate_by_score.rule_ids == ("L1",) and moderate_by_score.tier is Tier.MODERATE


def test_tiers_are_ordered_by_risk():
    assert Tier.PROHIBITED > Tier.HIGH > Tier.MODERATE > Tier.LOW > Tier.MINIMAL
    assert max(Tier.LOW, Tier.MINIMAL, Tier.MODERATE) is Tier.MODERATE
    assert sorted([Tier.HIGH, Tier.MINIMAL, Tier.PROHIBITED]) == [Tier.MINIMAL, Tier.HIGH, Tier.PROHIBITED]


def test_an_assessment_survives_a_round_trip_as_data():
    result = assess(CLEARVIEW)
    again = Assessment.from_dict(result.to_dict())
    assert again == result and again.percent == result.percent == 61.8


def test_the_summary_names_rules_and_the_answers_that_triggered_them():
    text = assess(CLEARVIEW).summary()
    assert text.startswith("tier prohibited: P1 — the vendor's reference data was collected without consent")
    assert "[data_source=scraped]" in text and "score 34/55 (61.8%)" in text


# --- answers ---------------------------------------------------------------------------------


def test_answers_are_cleaned():
    cleaned = validate_answers({**QUIET, "data_kinds": ["location", "biometric", "location"]})
    assert cleaned["data_kinds"] == ("biometric", "location")  # the question's order, once each
    assert validate_answers({**QUIET, "data_kinds": "none"})["data_kinds"] == ("none",)


@pytest.mark.parametrize(
    ("answers", "field", "words"),
    [
        ({k: v for k, v in QUIET.items() if k != "hosting"}, "hosting", "Answer"),
        (with_(hosting="moon"), "hosting", "unknown choice 'moon'"),
        (with_(colour="blue"), "colour", "Unknown question"),
        (with_(data_kinds=()), "data_kinds", "Answer"),
        (with_(data_kinds=("none", "location")), "data_kinds", "cannot be combined"),
        (with_(data_kinds=("weapons",)), "data_kinds", "unknown choice weapons"),
        (with_(in_use=("yes",)), "in_use", "choose one of"),
    ],
)
def test_bad_answers_are_named_question_by_question(answers, field, words):
    with pytest.raises(InvalidInput) as raised:
        assess(answers)
    assert words in raised.value.errors[field]


def test_every_problem_is_reported_at_once():
    with pytest.raises(InvalidInput) as raised:
        validate_answers({"in_use": "maybe", "colour": "blue"})
    assert {"in_use", "colour", "hosting", "human_review"} <= set(raised.value.errors)


# --- rules as data -----------------------------------------------------------------------------


def test_a_rule_with_the_same_id_replaces_the_default_and_a_new_id_is_added():
    softer_p5 = Rule("P5", "lawful authority is missing", {"lawful_authority": {"none"}}, Tier.HIGH)
    cloud = Rule("M1", "it runs in a cloud", {"hosting": {"canada", "foreign"}}, Tier.MODERATE)
    rules = merge_rules(DEFAULT_RULES, [softer_p5, cloud])
    assert [r.id for r in rules] == [r.id for r in DEFAULT_RULES] + ["M1"]
    assert assess(with_(lawful_authority="none"), rules).tier is Tier.HIGH
    assert assess(with_(hosting="canada"), rules).rule_ids == ("M1",)


def test_a_rule_given_one_value_as_text_means_that_value():
    assert Rule("X1", "x", {"hosting": "foreign"}, Tier.HIGH).when == {"hosting": {"foreign"}}


def test_default_rules_name_only_known_questions_and_values():
    assert all(rule_problems(rule) == [] for rule in DEFAULT_RULES)
    bad = Rule("X1", "x", {"colour": {"blue"}, "hosting": {"mars"}}, Tier.HIGH)
    problems = rule_problems(bad)
    assert any("unknown question 'colour'" in p for p in problems)
    assert any("hosting has unknown value(s) 'mars'" in p for p in problems)
