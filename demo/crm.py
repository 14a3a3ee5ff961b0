"""The demo CRM: the world as a HubSpot portal sees it on the end date, and
the same records as canonical CSV exports.

HubSpot objects are rendered exactly as the CRM v3 API returns them
(property values are strings or null; ``hs_lastmodifieddate`` is the last
change on or before the end date), so the emulator can serve them unchanged
and incremental extraction has a truthful cursor. The CSV rows are derived
from those objects, so both adapters see one set of facts.

Planted bad rows (dated on the window's first days, listed in the manifest):
a deal without ``account_id``, a contract deal whose ``renewal_date`` is
``31/02/2026``, a contract deal for a company id the CRM does not have, and a
CSM sentiment entry with sentiment 7 (valid: 1-3).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from demo.world import (
    ONBOARDING_DAYS,
    WORLD_ANCHOR,
    Account,
    Contract,
    Voice,
    World,
    planted_account,
)

UNKNOWN_COMPANY_ID = "5999999999"
BAD_RENEWAL_DATE = "31/02/2026"
CANONICAL_COLUMNS = {
    "accounts": ("account_id", "name", "parent_account_id", "csm_owner_id", "employees",
                 "industry", "region", "lifecycle_stage", "created_at"),
    "contracts": ("contract_id", "account_id", "start_date", "end_date", "arr", "status"),
    "expansions": ("expansion_id", "account_id", "kind", "closed_at", "arr_delta"),
    "sentiment": ("entry_id", "account_id", "csm_owner_id", "sentiment", "note", "recorded_at"),
    "owners": ("owner_id", "email", "name"),
}


def hubspot_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def hubspot_objects(world: World, voice: Voice, start: date,
                    end: date) -> tuple[dict[str, list[dict]], list[dict]]:
    """Companies, deals, CSM sentiment and owners as of ``end``, and the bad rows planted."""
    existing = [a for a in world.accounts if a.exists_on(end)]
    companies = [_company(a, end) for a in existing]
    deals = [deal for a in existing for deal in _deals(a, end)]
    sentiment = [
        _object(entry.entry_id, entry.recorded_at, entry.recorded_at, {
            "account_id": entry.account.company_id,
            "hubspot_owner_id": entry.account.owner_id,
            "sentiment": str(entry.sentiment),
            "note": entry.note,
            "recorded_at": hubspot_time(entry.recorded_at),
        })
        for entry in voice.sentiment
    ]
    bad_deals, bad_sentiment, bad_rows = _planted(world, start)
    objects = {
        "companies": companies,
        "deals": sorted(deals + bad_deals, key=lambda o: int(o["id"])),
        "p_csm_sentiment": sorted(sentiment + bad_sentiment, key=lambda o: int(o["id"])),
        "owners": _owners(world),
    }
    return objects, bad_rows


def canonical_rows(objects: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """The HubSpot objects in the canonical staging shape, for the CSV exports."""
    deals = [o["properties"] | {"id": o["id"]} for o in objects["deals"]]
    return {
        "accounts": [{
            "account_id": o["id"],
            "name": p["name"],
            "parent_account_id": p["hs_parent_company_id"],
            "csm_owner_id": p["hubspot_owner_id"],
            "employees": p["numberofemployees"],
            "industry": p["industry"],
            "region": p["region"],
            "lifecycle_stage": p["lifecyclestage"],
            "created_at": p["createdate"],
        } for o in objects["companies"] for p in [o["properties"]]],
        "contracts": [{
            "contract_id": d["id"],
            "account_id": d["account_id"],
            "start_date": d["contract_start"],
            "end_date": d["renewal_date"],
            "arr": d["amount"],
            "status": d["contract_status"],
        } for d in deals if d["deal_kind"] == "contract"],
        "expansions": [{
            "expansion_id": d["id"],
            "account_id": d["account_id"],
            "kind": d["deal_kind"],
            "closed_at": d["closedate"][:10],
            "arr_delta": d["amount"],
        } for d in deals if d["deal_kind"] != "contract"],
        "sentiment": [{
            "entry_id": o["id"],
            "account_id": p["account_id"],
            "csm_owner_id": p["hubspot_owner_id"],
            "sentiment": p["sentiment"],
            "note": p["note"],
            "recorded_at": p["recorded_at"],
        } for o in objects["p_csm_sentiment"] for p in [o["properties"]]],
        "owners": [{
            "owner_id": o["id"],
            "email": o["email"],
            "name": f"{o['firstName']} {o['lastName']}",
        } for o in objects["owners"]],
    }


def _object(object_id: str, created: datetime, modified: datetime, properties: dict) -> dict:
    return {
        "id": object_id,
        "properties": properties | {"hs_lastmodifieddate": hubspot_time(modified)},
        "createdAt": hubspot_time(created),
        "updatedAt": hubspot_time(modified),
        "archived": False,
    }


def _company(account: Account, end: date) -> dict:
    becomes_customer = account.created_at + timedelta(days=ONBOARDING_DAYS)
    onboarding = end < becomes_customer.date()
    return _object(account.company_id, account.created_at,
                   account.created_at if onboarding else becomes_customer, {
                       "name": account.name,
                       "hs_parent_company_id": account.parent_company_id,
                       "hubspot_owner_id": account.owner_id,
                       "numberofemployees": str(account.employees),
                       "industry": account.industry,
                       "region": account.region,
                       "lifecyclestage": "onboarding" if onboarding else "customer",
                       "createdate": hubspot_time(account.created_at),
                   })


def _deals(account: Account, end: date) -> list[dict]:
    """One contract deal per term started by ``end``, plus expansion deals closed by then."""
    deals = []
    for contract in account.contracts:
        if contract.start > end:
            break
        signed = datetime.combine(contract.start, account.created_at.timetz())
        status, changed = _contract_status(account, contract, end)
        deals.append(_object(contract.deal_id, signed, changed, _deal_properties(
            "contract", account.company_id, contract.start.isoformat(), signed,
            contract.end.isoformat(), contract.arr, status)))
    for expansion in account.expansions:
        if expansion.closed_at.date() <= end:
            deals.append(_object(expansion.deal_id, expansion.closed_at, expansion.closed_at,
                                 _deal_properties(expansion.kind, account.company_id, None,
                                                  expansion.closed_at, None,
                                                  expansion.arr_delta, None)))
    return deals


def _contract_status(account: Account, contract: Contract, end: date) -> tuple[str, datetime]:
    """The term's status as of ``end`` and when it took that value."""
    expanded = [e.closed_at for e in account.expansions
                if contract.start <= e.closed_at.date() < contract.end
                and e.closed_at.date() <= end]
    if expanded:
        return "expanded", min(expanded)
    if contract.end <= end:
        ended = datetime.combine(contract.end, account.created_at.timetz())
        return ("churned" if account.churn_date == contract.end else "renewed"), ended
    return "active", datetime.combine(contract.start, account.created_at.timetz())


def _deal_properties(kind: str, account_id: str | None, contract_start: str | None,
                     closed: datetime, renewal_date: str | None, amount: int,
                     status: str | None) -> dict:
    return {
        "deal_kind": kind,
        "account_id": account_id,
        "contract_start": contract_start,
        "closedate": hubspot_time(closed),
        "renewal_date": renewal_date,
        "amount": str(amount),
        "contract_status": status,
    }


def _owners(world: World) -> list[dict]:
    """Owners exactly as ``GET /crm/v3/owners`` lists them."""
    joined = hubspot_time(datetime.combine(WORLD_ANCHOR - timedelta(days=3 * 365), time(9),
                                           UTC))
    return [{
        "id": owner.owner_id,
        "email": owner.email,
        "firstName": owner.first_name,
        "lastName": owner.last_name,
        "userId": int(owner.owner_id) - 60_000_000,
        "createdAt": joined,
        "updatedAt": joined,
        "archived": False,
    } for owner in world.owners]


def _planted(world: World, start: date) -> tuple[list[dict], list[dict], list[dict]]:
    victim = planted_account(world, start)

    def moment(offset: int) -> datetime:
        return datetime.combine(start + timedelta(days=offset), time(10), UTC)

    deals = [
        _object("7999999001", moment(1), moment(1), _deal_properties(
            "upsell", None, None, moment(1), None, 4_800, None)),
        _object("7999999002", moment(2), moment(2), _deal_properties(
            "contract", victim.company_id, (start + timedelta(days=2)).isoformat(), moment(2),
            BAD_RENEWAL_DATE, 12_000, "active")),
        _object("7999999003", moment(3), moment(3), _deal_properties(
            "contract", UNKNOWN_COMPANY_ID, (start + timedelta(days=3)).isoformat(), moment(3),
            (start + timedelta(days=368)).isoformat(), 9_600, "active")),
    ]
    sentiment = [_object("6999999999999", moment(2), moment(2), {
        "account_id": victim.company_id,
        "hubspot_owner_id": victim.owner_id,
        "sentiment": "7",
        "note": "Typed 7 meaning 'very happy' in a 1-3 field.",
        "recorded_at": hubspot_time(moment(2)),
    })]
    planted = (
        ("deals", "expansions", "deal_without_account_id", "7999999001"),
        ("deals", "contracts", "unparseable_renewal_date", "7999999002"),
        ("deals", "contracts", "unknown_account_id", "7999999003"),
        ("p_csm_sentiment", "sentiment", "sentiment_out_of_range", "6999999999999"),
    )
    bad_rows = [
        {"source": source, "stream": stream, "kind": kind, "id": row_id}
        for hubspot_stream, csv_stream, kind, row_id in planted
        for source, stream in (("hubspot", hubspot_stream), ("crm_csv", csv_stream))
    ]
    return deals, sentiment, bad_rows
