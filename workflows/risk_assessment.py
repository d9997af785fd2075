"""Judging a tool's risk at intake: the score and the tier, from the answers and the rules.

Prohibitions are checked before anything is scored, because a score cannot see legality: a
face search built on scraped images scores only "moderate" on Canada's Algorithmic Impact
Assessment, yet a police service may not use it (OPC, RCMP/Clearview, 2021).

Evaluation order is fixed:

1. **Rules** (workflows/risk_rules.py) with effect ``prohibited`` (P1–P5 by default), then ``high``
   (H1–H5), then any lower-effect rules a config adds. Every rule whose condition holds is
   recorded with the answers that made it hold.
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
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from workflows.risk import Tier, as_set, validate_answers
from workflows.risk_rules import DEFAULT_RULES, Rule

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
        chosen = as_set(answers.get(qid))
        points = sum(weights[v] for v in chosen)
        total += min(points, DATA_KINDS_CAP) if qid == "data_kinds" else points
    return total


def score_tier(points: int, maximum: int, answers: Mapping[str, Any]) -> Tier:
    # Compared as integers (points * 100 against threshold * maximum), so boundaries are exact.
    if points * 100 >= MODERATE_FROM * maximum:
        return Tier.MODERATE
    if points * 100 >= LOW_FROM * maximum:
        return Tier.LOW
    no_personal_data = as_set(answers.get("data_kinds")) == {"none"}
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
