"""The risk rules: a rule is data, ``{id, reason, when: {question: values}, effect}``. Every condition in
``when`` must hold; for a single-choice question the answer must be one of the values, for the
several-choices question (``data_kinds``) the answers must include any of the values.

The default rules (P1–P5 prohibit, H1–H5 make a request high risk), how a config's rules replace
or add to them, and what is wrong with a rule a config gives. How they are applied is
workflows/risk_assessment.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from workflows.risk import PERSONAL_DATA, QUESTIONS, Question, Tier, as_set

# --- rules ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    id: str
    reason: str  # plain words, shown to officers and reviewers after the id
    when: Mapping[str, frozenset[str]]  # every question's answer must be (or include) one of its values
    effect: Tier

    def __post_init__(self) -> None:
        # A lone value ("foreign") is one value, not a set of letters.
        object.__setattr__(self, "when", {q: as_set(v) for q, v in self.when.items()})

    def __hash__(self) -> int:
        return hash((self.id, self.effect, tuple(sorted((q, tuple(sorted(v))) for q, v in self.when.items()))))

    @property
    def text(self) -> str:
        """'P1 — the vendor's reference data was collected without consent'."""
        return f"{self.id} — {self.reason}"

    def triggers(self, answers: Mapping[str, Any]) -> dict[str, tuple[str, ...]] | None:
        """The answers that make this rule hold, by question; None if it does not hold."""
        found: dict[str, tuple[str, ...]] = {}
        for qid, values in self.when.items():
            hit = as_set(answers.get(qid)) & values
            if not hit:
                return None
            found[qid] = tuple(sorted(hit))
        return found


def rule_problems(rule: Rule, questions: tuple[Question, ...] = QUESTIONS) -> list[str]:
    """What is wrong with a rule (unknown questions or values, no condition); empty if nothing."""
    problems = []
    if not rule.when:
        problems.append("when has no condition; name at least one question and its values")
    known = {q.id: q for q in questions}
    for qid, values in rule.when.items():
        if qid not in known:
            problems.append(f"unknown question {qid!r}; the questions are: {', '.join(known)}")
            continue
        if not values:
            problems.append(f"{qid} lists no values; choose from {', '.join(known[qid].values)}")
        if unknown := sorted(values - set(known[qid].values)):
            problems.append(
                f"{qid} has unknown value(s) {', '.join(map(repr, unknown))}; choose from "
                f"{', '.join(known[qid].values)}"
            )
    return problems


def _rule(rid: str, reason: str, effect: Tier, **when: Iterable[str]) -> Rule:
    return Rule(rid, reason, {q: frozenset(v) for q, v in when.items()}, effect)


P, H = Tier.PROHIBITED, Tier.HIGH
DEFAULT_RULES: tuple[Rule, ...] = (
    _rule("P1", "the vendor's reference data was collected without consent", P, data_source={"scraped"}),
    _rule("P2", "it watches public places live or in bulk", P, live_public={"yes"}),
    _rule("P3", "it predicts whether a person will offend", P, predicts_offending={"yes"}),
    _rule("P4", "it infers race, religion, politics, sexual orientation or health", P, infers_protected={"yes"}),
    _rule("P5", "there is no lawful authority for this use", P, lawful_authority={"none"}),
    _rule("H1", "it searches one face, voice or plate against many", H, identifies_people={"one_to_many"}),
    _rule("H2", "it handles biometric data", H, data_kinds={"biometric"}),
    _rule("H3", "personal data is kept outside Canada", H, hosting={"foreign"}, data_kinds=PERSONAL_DATA),
    _rule("H4", "the vendor keeps or reuses what we upload", H, vendor_keeps_uploads={"yes"}),
    _rule(
        "H5",
        "its output identifies people and no person checks it before action",
        H,
        identifies_people={"assists", "one_to_many"},
        human_review={"never"},
    ),
)
del P, H


def merge_rules(base: Iterable[Rule], changes: Iterable[Rule]) -> tuple[Rule, ...]:
    """`changes` applied to `base`: a rule with an existing id replaces it in place, a new id is added."""
    merged = {r.id: r for r in base}
    for rule in changes:
        merged[rule.id] = rule
    return tuple(merged.values())
