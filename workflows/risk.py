"""The vocabulary of risk at intake: the tiers, and the questions every request answers (their
ids, choices and the answers' validation). The rules written in it are workflows/risk_rules.py;
the score and the assessment (the tier a request is given) workflows/risk_assessment.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
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


def as_set(value: Any) -> frozenset[str]:
    if value is None:
        return frozenset()
    return frozenset((value,) if isinstance(value, str) else value)
