"""The demo surveys: Typeform forms and responses (NPS with optional CSAT, and
the CMI questionnaire), and a support desk's CSAT export as CSV.

Typeform items are rendered exactly as the Responses API returns them, with
the account and respondent passed as hidden fields, so the emulator serves
them unchanged. Form and field ids are constants, not seeded, so pipeline
config can name them.

Planted bad rows (dated on the window's first days, listed in the manifest):
Typeform: an NPS of 11, a response whose hidden ``account_id`` is empty (as
Typeform sends a hidden field the link did not fill), and one for an account
the CRM does not know. CSAT CSV: a row whose ``submitted_at`` cannot be
parsed, and a response id sent twice with different answers.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from demo.world import CMI_QUESTIONS, Voice, World, planted_account, token

NPS_FORM_ID = "nps-relationship"
CMI_FORM_ID = "cmi-assessment"
UNKNOWN_ACCOUNT_ID = "5999999997"
UNPARSEABLE_TIMESTAMP = "32/10/2026 09:00"
CSAT_COLUMNS = ("response_id", "account_id", "respondent", "survey", "question_id", "answer",
                "submitted_at")


def _field(ref: str, kind: str) -> dict:
    return {"id": token("typeform-field", ref)[:12], "ref": ref, "type": kind}


NPS_FIELDS = {"nps": _field("nps", "opinion_scale"), "csat": _field("csat", "rating")}
CMI_FIELDS = {q: _field(q, "opinion_scale") for qs in CMI_QUESTIONS.values() for q in qs}
FORMS = [
    {"id": NPS_FORM_ID, "title": "How likely are you to recommend us?",
     "fields": list(NPS_FIELDS.values())},
    {"id": CMI_FORM_ID, "title": "Customer maturity check-in",
     "fields": list(CMI_FIELDS.values())},
]


def typeform_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def typeform_responses(world: World, voice: Voice,
                       start: date) -> tuple[dict[str, list[dict]], list[dict]]:
    """Response items per form id, newest first, and the bad rows planted."""
    nps = [
        _item(NPS_FORM_ID, a.token, a.submitted_at, a.account.company_id, a.email,
              {"nps": a.nps} | ({"csat": a.csat} if a.csat is not None else {}))
        for a in voice.nps
    ]
    cmi = [_item(CMI_FORM_ID, a.token, a.submitted_at, a.account.company_id, a.email, a.answers)
           for a in voice.cmi]
    victim = planted_account(world, start)
    email = victim.members[0].email
    planted = (
        ("nps_out_of_range", 1, victim.company_id, email, {"nps": 11}),
        ("response_without_account_id", 2, "", email, {"nps": 8}),
        ("unknown_account_id", 3, UNKNOWN_ACCOUNT_ID, "pat.doe@unknown.example", {"nps": 9}),
    )
    bad_rows = []
    for kind, offset, account_id, respondent, answers in planted:
        response_token = token("planted", kind, start.toordinal())
        submitted = datetime.combine(start + timedelta(days=offset), time(11), UTC)
        nps.append(_item(NPS_FORM_ID, response_token, submitted, account_id, respondent, answers))
        bad_rows.append({"source": "typeform", "stream": NPS_FORM_ID, "kind": kind,
                         "id": response_token})
    return {NPS_FORM_ID: _newest_first(nps), CMI_FORM_ID: _newest_first(cmi)}, bad_rows


def _newest_first(items: list[dict]) -> list[dict]:
    return sorted(items, key=lambda item: (item["submitted_at"], item["token"]), reverse=True)


def _item(form_id: str, response_token: str, submitted: datetime, account_id: str,
          email: str, answers: dict[str, int]) -> dict:
    fields = NPS_FIELDS if form_id == NPS_FORM_ID else CMI_FIELDS
    reading_time = timedelta(seconds=30 + int(response_token[:4], 16) % 300)
    return {
        "landing_id": response_token,
        "token": response_token,
        "response_id": response_token,
        "landed_at": typeform_time(submitted - reading_time),
        "submitted_at": typeform_time(submitted),
        "metadata": {
            "user_agent": "Mozilla/5.0",
            "platform": "other",
            "referer": f"https://demo.typeform.com/to/{form_id}",
            "network_id": response_token[:10],
            "browser": "default",
        },
        "hidden": {"account_id": account_id, "email": email},
        "calculated": {"score": 0},
        "answers": [
            {"field": fields[ref], "type": "number", "number": value}
            for ref, value in answers.items()
        ],
    }


def csat_rows(world: World, voice: Voice, start: date) -> tuple[list[dict], list[dict]]:
    """Support-desk CSAT ratings in the canonical survey_responses shape."""
    rows = [
        _csat_row(r.response_id, r.account.company_id, r.email, r.answer,
                  typeform_time(r.submitted_at))
        for r in voice.csat
    ]
    victim = planted_account(world, start)
    email = victim.members[0].email
    day = f"{start:%Y%m%d}"
    resent = datetime.combine(start + timedelta(days=1), time(15), UTC)
    rows += [
        _csat_row(f"zd-{day}-98", victim.company_id, email, 4, typeform_time(resent)),
        _csat_row(f"zd-{day}-98", victim.company_id, email, 2, typeform_time(resent)),
        _csat_row(f"zd-{day}-99", victim.company_id, email, 3, UNPARSEABLE_TIMESTAMP),
    ]
    bad_rows = [
        {"source": "survey_csv", "stream": "csat", "kind": "conflicting_duplicate",
         "id": f"zd-{day}-98"},
        {"source": "survey_csv", "stream": "csat", "kind": "unparseable_submitted_at",
         "id": f"zd-{day}-99"},
    ]
    return rows, bad_rows


def _csat_row(response_id: str, account_id: str, email: str, answer: int,
              submitted_at: str) -> dict:
    return {"response_id": response_id, "account_id": account_id, "respondent": email,
            "survey": "csat", "question_id": "csat", "answer": str(answer),
            "submitted_at": submitted_at}
