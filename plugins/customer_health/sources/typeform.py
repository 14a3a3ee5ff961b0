"""Kind ``typeform``: survey answers from the Typeform Responses API.

``GET /forms/{form_id}/responses?since=<cursor>&page_size=N`` returns the
newest responses first; the next page is asked with ``before=<token of the
last item>`` until a page comes back empty. Each numeric answer becomes one
row of ``survey_responses`` (long format); a form maps its field refs to the
survey (nps, csat, cmi) and question id they feed. Who answered for which
account comes from the form's hidden fields.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from customer_health.contracts.streams import Stream
from customer_health.sources.base import Extractor, Record
from customer_health.sources.http import ApiClient

Survey = Literal["nps", "csat", "cmi"]


class TypeformOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    page_size: int = Field(1000, ge=1, le=1000)
    max_attempts: int = Field(8, ge=1, le=20)


class FieldMap(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    survey: Survey | None = None
    question: str | None = None


class TypeformForm(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    form_id: str = Field(pattern=r"^[A-Za-z0-9_\-]+$")
    survey: Survey
    """The survey every numeric answer of this form feeds, unless ``fields`` says otherwise."""
    fields: dict[str, FieldMap] = Field(default_factory=dict)
    """Field ref -> survey / question id; a ref not listed becomes question id = ref."""
    only_listed_fields: bool = False
    account_field: str = "account_id"
    respondent_field: str = "email"


class TypeformStream(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    forms: list[TypeformForm] = Field(min_length=1)


class TypeformExtractor(Extractor):
    kind = "typeform"
    SourceOptions = TypeformOptions
    StreamOptions = TypeformStream

    def records(self, stream: Stream, options: TypeformStream, cursor: str | None) -> Iterator[Record]:
        client = ApiClient(
            self.connection.host or "https://api.typeform.com",
            self.connection.password,
            vendor="Typeform",
            conn_id=self.connection.conn_id,
            max_attempts=self.options.max_attempts,
        )
        for form in options.forms:
            for item in self._responses(client, form.form_id, cursor):
                for row in self._rows(form, item):
                    yield row, item.get("submitted_at")

    def _responses(self, client: ApiClient, form_id: str, since: str | None):
        before = None
        while True:
            params = {"page_size": self.options.page_size}
            if since:
                params["since"] = since
            if before:
                params["before"] = before
            items = client.request("GET", f"/forms/{form_id}/responses", params=params).get("items", [])
            if not items:
                return
            yield from items
            before = items[-1]["token"]

    @staticmethod
    def _rows(form: TypeformForm, item: dict):
        hidden = item.get("hidden") or {}
        for answer in item.get("answers") or []:
            ref = (answer.get("field") or {}).get("ref")
            mapped = form.fields.get(ref)
            if mapped is None and form.only_listed_fields:
                continue
            if answer.get("type") != "number" and mapped is None:
                continue  # free text and choices feed no score
            yield {
                "response_id": item.get("response_id") or item.get("token"),
                "account_id": hidden.get(form.account_field),
                "respondent": hidden.get(form.respondent_field),
                "survey": (mapped.survey if mapped and mapped.survey else form.survey),
                "question_id": (mapped.question if mapped and mapped.question else ref),
                "answer": answer.get("number"),
                "submitted_at": item.get("submitted_at"),
            }
