"""Every action_id and callback_id the bot puts on Slack surfaces, in one place."""

from __future__ import annotations

from enum import StrEnum


class ActionId(StrEnum):
    APPROVE = "review-approve"
    APPROVE_WITH_NOTE = "review-approve-note"
    REJECT = "review-reject"
    ASK_INFO = "review-ask-info"
    ANSWER = "request-answer"
    WITHDRAW = "request-withdraw"
    ACKNOWLEDGE = "directive-acknowledge"
    DIRECTIVE_DETAILS = "directive-details"
    DIRECTIVE_REVOKE = "directive-revoke"
    DIRECTIVE_SUPERSEDE = "directive-supersede"
    DIRECTIVE_PENDING = "directive-pending"  # the full list of who has not acknowledged, page by page
    DIRECTIVE_RETRY = "directive-retry"  # post again to the channels that failed
    DIRECTIVE_TOOL = "directive-tool"  # the tool picker (external select) in the directive form
    HOME_PAGE = "home-page"
    RAISE_TIER = "review-raise-tier"
    LOWER_TIER = "review-lower-tier"
    CEASE_USE_FROM_REQUEST = "request-cease-use"  # command staff: open /directive prefilled, cease use
    USAGE_CSV = "usage-csv"  # /tool-usage: send everyone linked to the tool as a CSV file in a DM
    LICENCE_GROUPS = "licence-groups"  # the licence form's user groups (external select: usergroups.list)
    LICENCE_RENEW = "licence-renew"  # /tool-status and the expiry reminder: Renew…
    LICENCE_EXTEND = "licence-extend"  # /tool-status, command staff: Extend…
    ATTEST = "directive-attest"  # a cease-use or suspension: open the attestation form
    ATTEST_REQUEST = "request-attest"  # a rejected self-reported use: the same form, about the request


class CallbackId(StrEnum):
    LICENCE_FORM = "licence-form"  # the last stage's Approve: the licence
    RENEW_FORM = "licence-renew-form"
    EXTEND_FORM = "licence-extend-form"
    ATTEST_FORM = "attest-form"  # never used / stopped and deleted / still holding
    REPORT_FORM = "report-use-form"  # /report-use, page 1: what was used, since when, why
    REPORT_QUESTIONS = "report-use-questions"  # page 2: the risk questions
    REPORT_SHORTCUT = "report-use"  # the message shortcut "Report use of a tool"
    REQUEST_FORM = "request-form"
    REQUEST_QUESTIONS = "request-questions"  # page 2 of the request form: the risk questions
    TIER_FORM = "review-tier-form"
    REVIEW_REASON = "review-reason"
    ANSWER_FORM = "request-answer-form"
    DIRECTIVE_FORM = "directive-form"
    DIRECTIVE_REVOKE_FORM = "directive-revoke-form"
    DIRECTIVE_STATUS = "directive-status"  # who has acknowledged (read only; no submit)
    DIRECTIVE_PENDING = "directive-pending"  # who has not, page by page (read only)
