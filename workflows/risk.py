"""Judging a tool's risk at intake: the questions, the rules, the score and the tier.

Prohibitions are checked before anything is scored, because a score cannot see legality: a
face search built on scraped images scores only "moderate" on Canada's Algorithmic Impact
Assessment, yet a police service may not use it (OPC, RCMP/Clearview, 2021).

Evaluation order is fixed:

1. **Rules** with effect ``prohibited`` (P1–P5 by default), then ``high`` (H1–H5), then any
   lower-effect rules a config adds. Every rule whose condition holds is recorded with the
   answers that made it hold.
2. **The score** (always computed, shown to reviewers): each answer's weight (``WEIGHTS``)
   summed, as a percentage of the largest possible sum. For several kinds of data the chosen
   kinds' weights are summed and capped at ``DATA_KINDS_CAP``.

       percent >= MODERATE_FROM (10 %)        moderate
       percent >= LOW_FROM (5 %)              low
       below LOW_FROM                         minimal, but only if the tool touches no personal
                                              data (data_kinds = none) and nothing leaves our
                                              premises (hosting = on_premises); otherwise low

   With the default weights the maximum is 55, so 6 points or more is moderate, 3 to 5 low,
   0 to 2 minimal (when the two conditions hold). Personal information hosted by a vendor in
   Canada (3 + 3 points) is therefore moderate whatever else is answered.
3. The tier is the higher of the highest fired rule's effect and the score's tier.

A rule is data: ``{id, reason, when: {question: values}, effect}``. Every condition in
``when`` must hold; for a single-choice question the answer must be one of the values, for
the several-choices question (``data_kinds``) the answers must include any of the values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from workflows.errors import InvalidInput

# --- tiers ---------------------------------------------------------------------------------


class Tier(StrEnum):
    """Risk tiers, ordered: prohibited > high > moderate > low > minimal."""

    MINIMAL = "minimal"
    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"
    PROHIBITED = "prohibited"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def label(self) -> str:
        return self.value.capitalize()

    # Compare by risk, not alphabetically (StrEnum would compare the strings).
    def __lt__(self, other: object) -> bool:
        return self.rank < other.rank if isinstance(other, Tier) else NotImplemented

    def __le__(self, other: object) -> bool:
        return self.rank <= other.rank if isinstance(other, Tier) else NotImplemented

    def __gt__(self, other: object) -> bool:
        return self.rank > other.rank if isinstance(other, Tier) else NotImplemented

    def __ge__(self, other: object) -> bool:
        return self.rank >= other.rank if isinstance(other, Tier) else NotImplemented


_RANK = {tier: rank for rank, tier in enumerate(Tier)}
# Tiers that can have a route of review stages (a prohibited request is refused at once).
ROUTED_TIERS = (Tier.HIGH, Tier.MODERATE, Tier.LOW, Tier.MINIMAL)


# --- questions -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    value: str
    label: str  # the short choice shown
    explanation: str  # one plain line under it


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    options: tuple[Option, ...]
    multiple: bool = False  # several options may be chosen (data_kinds)
    required: bool = True

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(o.value for o in self.options)

    def option(self, value: str) -> Option:
        return next(o for o in self.options if o.value == value)


def _q(qid: str, text: str, *options: tuple[str, str, str], multiple: bool = False) -> Question:
    return Question(qid, text, tuple(Option(*o) for o in options), multiple=multiple)


# The ids and option values are an interface: rules, config files and exports refer to them.
QUESTIONS: tuple[Question, ...] = (
    _q(
        "in_use",
        "Is it in use already?",
        ("no", "No", "Nobody here uses it yet."),
        ("trial", "On trial", "Someone has a trial or free account."),
        ("yes", "Yes", "It is already used for police work."),
    ),
    _q(
        "data_kinds",
        "What data does it touch?",
        ("biometric", "Biometrics", "Faces, fingerprints, voice prints or other body measurements."),
        ("images_video", "Images or video", "Photos or footage that may show people."),
        ("location", "Location", "Where people or devices are or have been."),
        ("social_media", "Social media", "Posts, profiles or contacts from social media."),
        ("licence_plates", "Licence plates", "Plate reads or vehicle records."),
        ("personal_info", "Personal information", "Names, contacts, records about people."),
        ("non_suspects", "People not suspected", "Victims, witnesses or the public, not only suspects."),
        ("none", "None of these", "No information about people at all."),
        multiple=True,
    ),
    _q(
        "data_source",
        "Where does the vendor's reference data come from?",
        ("ours", "Only our own data", "Only data we hold lawfully ourselves."),
        ("licensed", "Licensed", "Collected lawfully by the vendor and licensed to us."),
        ("scraped", "Scraped", "Collected from the internet or social media without consent."),
        ("unknown", "Unknown", "The vendor has not said."),
    ),
    _q(
        "identifies_people",
        "Does its output identify people?",
        ("no", "No", "Its output names or points to no one."),
        ("assists", "Helps a person identify", "It suggests; an officer makes the identification."),
        ("one_to_many", "Searches one against many", "Matches one face, voice or plate against many."),
    ),
    _q(
        "live_public",
        "Does it watch public places live or in bulk?",
        ("no", "No", "It does not watch public places."),
        ("yes", "Yes", "It watches public places live, or sweeps footage in bulk."),
    ),
    _q(
        "predicts_offending",
        "Does it predict whether a person will offend?",
        ("no", "No", "It makes no prediction about a person's future offending."),
        ("yes", "Yes", "It scores or flags people as likely to offend."),
    ),
    _q(
        "infers_protected",
        "Does it infer race, religion, politics, sexual orientation or health?",
        ("no", "No", "It infers none of these."),
        ("yes", "Yes", "It guesses at least one of these about people."),
    ),
    _q(
        "lawful_authority",
        "Lawful authority for this use",
        ("confirmed", "Confirmed by counsel", "Legal counsel has confirmed we may use it this way."),
        ("to_confirm", "To be confirmed", "Not yet checked with counsel."),
        ("none", "None", "There is no lawful authority for this use."),
    ),
    _q(
        "hosting",
        "Where is the data kept?",
        ("on_premises", "On our premises", "On our own computers; nothing leaves the building."),
        ("canada", "In Canada", "On the vendor's or a cloud's servers in Canada."),
        ("foreign", "Outside Canada", "On servers outside Canada."),
        ("unknown", "Unknown", "The vendor has not said."),
    ),
    _q(
        "vendor_keeps_uploads",
        "Does the vendor keep or reuse what we upload?",
        ("no", "No", "The vendor deletes it and does not reuse it."),
        ("yes", "Yes", "The vendor keeps it or uses it, e.g. to train its models."),
        ("unknown", "Unknown", "The vendor's terms do not say."),
    ),
    _q(
        "human_review",
        "Is every output checked by a person before action?",
        ("always", "Always", "A person checks every result before anyone acts on it."),
        ("sometimes", "Sometimes", "Some results are acted on unchecked."),
        ("never", "Never", "Results are acted on as they come."),
    ),
)
QUESTION_IDS = tuple(q.id for q in QUESTIONS)
# Every kind of data about people: all the data_kinds except "none".
PERSONAL_DATA = frozenset(v for v in QUESTIONS[1].values if v != "none")

Answers = dict[str, Any]  # question id -> value (str), or a tuple of values for `multiple` questions


def question(qid: str, questions: Iterable[Question] = QUESTIONS) -> Question:
    for q in questions:
        if q.id == qid:
            return q
    raise KeyError(qid)


def validate_answers(answers: Mapping[str, Any], questions: tuple[Question, ...] = QUESTIONS) -> Answers:
    """The answers cleaned (multiple choices as a sorted tuple); InvalidInput naming each bad question."""
    errors: dict[str, str] = {}
    known = {q.id: q for q in questions}
    cleaned: Answers = {}
    for qid in answers:
        if qid not in known:
            errors[qid] = f"Unknown question “{qid}”; the questions are: {', '.join(known)}."
    for q in questions:
        raw = answers.get(q.id)
        if raw is None or raw == "" or raw == () or raw == []:
            if q.required:
                errors[q.id] = f"Answer “{q.text}”."
            continue
        if q.multiple:
            values = (raw,) if isinstance(raw, str) else tuple(raw)
            if not all(isinstance(v, str) for v in values):
                errors[q.id] = f"“{q.text}”: choose from the list."
                continue
            if unknown := [v for v in values if v not in q.values]:
                errors[q.id] = f"“{q.text}”: unknown choice {', '.join(unknown)}; choose from {', '.join(q.values)}."
                continue
            if "none" in values and len(set(values)) > 1:
                errors[q.id] = f"“{q.text}”: “None of these” cannot be combined with other choices."
                continue
            cleaned[q.id] = tuple(v for v in q.values if v in values)  # in the question's order, once each
        else:
            if not isinstance(raw, str) or raw not in q.values:
                errors[q.id] = f"“{q.text}”: unknown choice {raw!r}; choose one of {', '.join(q.values)}."
                continue
            cleaned[q.id] = raw
    if errors:
        raise InvalidInput(errors)
    return cleaned


def _as_set(value: Any) -> frozenset[str]:
    if value is None:
        return frozenset()
    return frozenset((value,) if isinstance(value, str) else value)


# --- rules ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    id: str
    reason: str  # plain words, shown to officers and reviewers after the id
    when: Mapping[str, frozenset[str]]  # every question's answer must be (or include) one of its values
    effect: Tier

    def __post_init__(self) -> None:
        # A lone value ("foreign") is one value, not a set of letters.
        object.__setattr__(self, "when", {q: _as_set(v) for q, v in self.when.items()})

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
            hit = _as_set(answers.get(qid)) & values
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


# --- the score -----------------------------------------------------------------------------

# Each answer's weight. Questions whose "yes" is prohibited by default still carry weight, so
# that a config that turns a prohibition into a high trigger keeps a meaningful score.
WEIGHTS: dict[str, dict[str, int]] = {
    "in_use": {"no": 0, "trial": 1, "yes": 2},
    "data_kinds": {
        "biometric": 5,
        "non_suspects": 4,
        "images_video": 3,
        "location": 3,
        "social_media": 3,
        "licence_plates": 3,
        "personal_info": 3,
        "none": 0,
    },
    "data_source": {"ours": 0, "licensed": 1, "unknown": 4, "scraped": 4},
    "identifies_people": {"no": 0, "assists": 3, "one_to_many": 5},
    "live_public": {"no": 0, "yes": 5},
    "predicts_offending": {"no": 0, "yes": 5},
    "infers_protected": {"no": 0, "yes": 5},
    "lawful_authority": {"confirmed": 0, "to_confirm": 2, "none": 5},
    "hosting": {"on_premises": 0, "canada": 3, "foreign": 5, "unknown": 5},
    "vendor_keeps_uploads": {"no": 0, "unknown": 3, "yes": 5},
    "human_review": {"always": 0, "sometimes": 2, "never": 4},
}
DATA_KINDS_CAP = 10  # several kinds of data add up, to at most this
MODERATE_FROM = 10  # percent of the maximum score
LOW_FROM = 5  # percent; below it, minimal if no personal data and nothing leaves our premises


def max_score() -> int:
    return sum(DATA_KINDS_CAP if q == "data_kinds" else max(w.values()) for q, w in WEIGHTS.items())


def score(answers: Mapping[str, Any]) -> int:
    total = 0
    for qid, weights in WEIGHTS.items():
        chosen = _as_set(answers.get(qid))
        points = sum(weights[v] for v in chosen)
        total += min(points, DATA_KINDS_CAP) if qid == "data_kinds" else points
    return total


def score_tier(points: int, maximum: int, answers: Mapping[str, Any]) -> Tier:
    # Compared as integers (points * 100 against threshold * maximum), so boundaries are exact.
    if points * 100 >= MODERATE_FROM * maximum:
        return Tier.MODERATE
    if points * 100 >= LOW_FROM * maximum:
        return Tier.LOW
    no_personal_data = _as_set(answers.get("data_kinds")) == {"none"}
    stays_here = answers.get("hosting") == "on_premises"
    return Tier.MINIMAL if no_personal_data and stays_here else Tier.LOW


# --- the assessment ------------------------------------------------------------------------


@dataclass(frozen=True)
class FiredRule:
    id: str
    reason: str
    effect: Tier
    triggers: dict[str, tuple[str, ...]]  # question id -> the answers that made the rule hold

    @property
    def text(self) -> str:
        return f"{self.id} — {self.reason}"

    def triggers_text(self) -> str:
        """'data_source=scraped, data_kinds=biometric+images_video' (for the audit trail)."""
        return ", ".join(f"{q}={'+'.join(v)}" for q, v in self.triggers.items())


@dataclass(frozen=True)
class Assessment:
    tier: Tier  # the higher of the rules' and the score's
    fired: tuple[FiredRule, ...]  # prohibitions first, then high triggers, then the rest
    score: int
    max_score: int
    score_tier: Tier
    percent: float = field(init=False)

    def __post_init__(self) -> None:
        percent = round(100 * self.score / self.max_score, 1) if self.max_score else 0.0
        object.__setattr__(self, "percent", percent)

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.fired)

    @property
    def prohibitions(self) -> tuple[FiredRule, ...]:
        return tuple(r for r in self.fired if r.effect is Tier.PROHIBITED)

    def refusal(self) -> str:
        """What a refused officer is told: 'Prohibited: P1 — the vendor's reference data …'."""
        return "Prohibited: " + "; ".join(r.text for r in self.prohibitions)

    def summary(self) -> str:
        """One line for the audit trail: tier, each fired rule with its triggering answers, the score."""
        rules = "; ".join(f"{r.text} [{r.triggers_text()}]" for r in self.fired) or "no rule fired"
        return f"tier {self.tier.value}: {rules}; score {self.score}/{self.max_score} ({self.percent}%)"

    def to_dict(self) -> dict[str, Any]:
        return {
            "tier": self.tier.value,
            "fired": [
                {
                    "id": r.id,
                    "reason": r.reason,
                    "effect": r.effect.value,
                    "triggers": {q: list(v) for q, v in r.triggers.items()},
                }
                for r in self.fired
            ],
            "score": self.score,
            "max_score": self.max_score,
            "score_tier": self.score_tier.value,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Assessment:
        fired = tuple(
            FiredRule(r["id"], r["reason"], Tier(r["effect"]), {q: tuple(v) for q, v in r["triggers"].items()})
            for r in data["fired"]
        )
        return cls(Tier(data["tier"]), fired, data["score"], data["max_score"], Tier(data["score_tier"]))


def assess(answers: Mapping[str, Any], rules: Iterable[Rule] = DEFAULT_RULES) -> Assessment:
    """Validate the answers, then judge them: prohibitions, then high triggers, then the score."""
    answers = validate_answers(answers)
    ordered = sorted(enumerate(rules), key=lambda item: (-item[1].effect.rank, item[0]))
    fired = []
    for _, rule in ordered:
        found = rule.triggers(answers)
        if found is not None:
            fired.append(FiredRule(rule.id, rule.reason, rule.effect, found))
    points, maximum = score(answers), max_score()
    by_score = score_tier(points, maximum, answers)
    tier = max([by_score, *(r.effect for r in fired)])
    return Assessment(tier, tuple(fired), points, maximum, by_score)
