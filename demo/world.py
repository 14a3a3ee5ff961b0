"""The simulated customer base behind the demo: accounts, their hidden
trajectories, and what their people do each day.

Why a simulation rather than random rows: scores are only worth showing if
outcomes (churn, renewal, expansion) can be learnt from behaviour, as in real
life, without being trivial. Every account follows a hidden trajectory that
moves all observable signals together, with noise:

- ``stable``: steady usage at its own level; contracts renew.
- ``declining``: usage, active users, feature breadth and session time fall
  over the 60-90 days before a contract end, then the account churns.
- ``growing``: usage and members rise around an upsell (sometimes also a
  cross-sell); the contract ends ``expanded``.
- ``onboarding``: signed in the last 90 days, ramping up; some stall.
- ``high_usage_churn``: heavy, steady usage, yet the customer sees no business
  result (low NPS and CSM sentiment) and churns: usage is not success.

A second hidden variable, maturity (per CMI characteristic), drives the CMI
questionnaire answers; it is only partly correlated with health.

Stability: the world is drawn around a fixed reference date
(``WORLD_ANCHOR``), never around the requested window. Account attributes
come from an RNG seeded by (seed, account), and each day's happenings from
RNG streams seeded by (seed, account, day, purpose). So a day looks the same
whatever window is asked for, and a later end date only adds days (plus the
state changes that happen on them).

This module does no I/O; ``crm``, ``surveys`` and ``product_db`` render it.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

WORLD_ANCHOR = date(2026, 11, 22)

TRAJECTORY_WEIGHTS = {
    "stable": 58,
    "declining": 13,
    "growing": 13,
    "onboarding": 12,
    "high_usage_churn": 4,
}
ONBOARDING_DAYS = 90

SEGMENTS = {  # name: (share, employees range, seats range, price per seat per year, platform fee)
    "SMB": (50, (10, 99), (3, 12), 600, 0),
    "mid-market": (33, (100, 999), (10, 35), 540, 3_000),
    "enterprise": (17, (1_000, 20_000), (30, 90), 480, 12_000),
}
REGION_WEIGHTS = {"NA": 40, "EMEA": 30, "APAC": 15, "JP": 15}
# Business hours in UTC seconds: each region's users work in their own daytime.
REGION_HOURS = {
    "NA": (13 * 3600, 23 * 3600),
    "EMEA": (7 * 3600, 17 * 3600),
    "APAC": (1 * 3600, 10 * 3600),
    "JP": (0, 9 * 3600),
}
INDUSTRIES = {
    "Software": ("Software", "Labs", "Systems"),
    "Retail": ("Retail", "Stores", "Market"),
    "Manufacturing": ("Manufacturing", "Industries", "Works"),
    "Financial Services": ("Capital", "Finance", "Payments"),
    "Healthcare": ("Health", "Clinics", "Medical"),
    "Education": ("Learning", "Academy", "Education"),
    "Logistics": ("Logistics", "Freight", "Transport"),
    "Media": ("Media", "Studios", "Publishing"),
    "Professional Services": ("Consulting", "Partners", "Advisory"),
}
NAME_PREFIXES = {
    "NA": ("Northwind", "Blue Harbor", "Cedar Ridge", "Summit", "Redwood", "Ironbridge",
           "Lakeshore", "Pinecrest", "Granite", "Silver Creek", "Bright Path", "Keystone",
           "Riverbend", "Oakmont", "Prairie", "Beacon", "Frontier", "Copper Hill",
           "Stonegate", "Evergreen"),
    "EMEA": ("Nordlicht", "Alder", "Rhine Valley", "Thames", "Baltic", "Helvetia", "Lumiere",
             "Aurora", "Fjord", "Danube", "Kestrel", "Oresund", "Castilla", "Brabant",
             "Tuscany", "Hanse", "Vltava", "Lindqvist", "Meridian", "Albion"),
    "APAC": ("Lotus", "Harbour City", "Koala", "Jade", "Monsoon", "Banyan", "Coral Sea",
             "Orchid", "Tasman", "Merlion", "Pacific Rim", "Saffron", "Bamboo", "Kiwi",
             "Sunda", "Mekong", "Borneo", "Indigo", "Southern Cross", "Golden Bay"),
    "JP": ("Sakura", "Fujimi", "Midori", "Hikari", "Yamato", "Asahi", "Kumo", "Tsubasa",
           "Minato", "Kaede", "Hoshino", "Aozora", "Kirin", "Shirakawa", "Nagomi", "Takumi",
           "Sora", "Hinode", "Matsu", "Kawase"),
}
LEGAL_FORMS = {
    "NA": ("Inc", "LLC", "Corp"),
    "EMEA": ("GmbH", "Ltd", "SA", "AB", "BV"),
    "APAC": ("Pte Ltd", "Pty Ltd", "Ltd"),
    "JP": ("KK", "Co., Ltd."),
}
SUBSIDIARY_LABELS = {"NA": "America", "EMEA": "Europe", "APAC": "Asia Pacific", "JP": "Japan"}
PEOPLE = {  # first names, last names
    "NA": (("Emily", "Michael", "Sarah", "David", "Jessica", "Chris", "Ashley", "Ryan",
            "Megan", "Jason", "Laura", "Kevin"),
           ("Smith", "Johnson", "Brown", "Miller", "Davis", "Wilson", "Moore", "Taylor",
            "Anderson", "Thomas", "Jackson", "White")),
    "EMEA": (("Anna", "Lukas", "Sophie", "Jonas", "Emma", "Mathieu", "Clara", "Pieter",
              "Ingrid", "Marco", "Elena", "Oliver"),
             ("Mueller", "Schmidt", "Dubois", "Janssen", "Rossi", "Nilsson", "Novak",
              "Fischer", "Laurent", "Bakker", "Ferrari", "Hughes")),
    "APAC": (("Wei", "Mei", "Arjun", "Siti", "Jun", "Ananya", "Liam", "Chloe", "Minh",
              "Hana", "Ravi", "Grace"),
             ("Chen", "Wong", "Lim", "Tan", "Nguyen", "Sharma", "Kumar", "Lee", "Ng",
              "Park", "Walsh", "Singh")),
    "JP": (("Haruto", "Yui", "Sota", "Aoi", "Ren", "Hina", "Yuto", "Mio", "Kaito", "Sakura",
            "Riku", "Yuna"),
           ("Tanaka", "Suzuki", "Takahashi", "Watanabe", "Ito", "Yamamoto", "Nakamura",
            "Kobayashi", "Kato", "Yoshida", "Yamada", "Sasaki")),
}

# The CSM team: (HubSpot owner id, first name, last name, regions covered).
OWNERS = (
    ("70010001", "Aiko", "Tanaka", ("JP",)),
    ("70010002", "Kenji", "Sato", ("JP", "APAC")),
    ("70010003", "Maria", "Garcia", ("NA",)),
    ("70010004", "James", "Walker", ("NA",)),
    ("70010005", "Priya", "Natarajan", ("APAC",)),
    ("70010006", "Lukas", "Becker", ("EMEA",)),
    ("70010007", "Chloe", "Martin", ("EMEA",)),
    ("70010008", "Daniel", "Kim", ("NA",)),
)
UNOWNED_SMB_SHARE = 0.25  # tech-touch accounts without a named CSM

# Feature events besides login (a session) and member_invited (tied to joins).
# The first three are core; the rest are adopted in an account-specific order.
FEATURE_WEIGHTS = {
    "dashboard_view": 30,
    "message_sent": 28,
    "search_performed": 14,
    "comment_added": 12,
    "file_uploaded": 8,
    "report_created": 5,
    "report_export": 4,
    "automation_created": 2,
    "settings_changed": 2,
    "integration_connected": 1,
}
CORE_FEATURES = 3
WEEKEND_FACTOR = 0.12

CMI_QUESTIONS = {
    "strategy": ("strategy_what", "strategy_how_well", "strategy_relation"),
    "people": ("people_what", "people_how_well"),
    "process": ("process_what", "process_how_well", "process_relation"),
    "technology": ("technology_what", "technology_how_well"),
}
CMI_RESPONDENT_SHARE = 0.45
NPS_DAILY_CHANCE = 1 / 130  # per account and weekday: most accounts answer 0-2 times in 6 months
CSAT_WITH_NPS_SHARE = 0.4
SENTIMENT_DAILY_CHANCE = {"SMB": 1 / 90, "mid-market": 1 / 50, "enterprise": 1 / 30}
SENTIMENT_NOTES = {
    1: ("Champion left the company; no reply to the last two emails.",
        "Escalated support ticket still open after three weeks.",
        "Customer asked about contract termination terms."),
    2: ("Usage is fine but the sponsor is unsure about ROI.",
        "Waiting on their IT team for the SSO integration.",
        "New admin needs training; adoption has slowed."),
    3: ("QBR went well; they want to roll out to another team.",
        "Weekly sync positive, no open issues.",
        "Sponsor shared internal success metrics with us."),
}
NO_RESULT_NOTE = "Heavy usage, but the sponsor has not confirmed any business result."


@dataclass(frozen=True)
class Owner:
    owner_id: str
    first_name: str
    last_name: str
    email: str
    regions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Member:
    member_id: int
    email: str
    role: str
    created_at: datetime
    removed_at: datetime | None
    propensity: float  # how much more or less than the account average this person uses it

    def active_on(self, day_ordinal: int) -> bool:
        """Joined before the day and not removed by it."""
        return (self.created_at.toordinal() < day_ordinal
                and (self.removed_at is None or self.removed_at.toordinal() > day_ordinal))


@dataclass(frozen=True)
class Expansion:
    deal_id: str
    kind: str  # upsell, cross_sell
    closed_at: datetime
    arr_delta: int


@dataclass(frozen=True)
class Contract:
    deal_id: str
    start: date
    end: date
    arr: int


@dataclass(frozen=True)
class Account:
    """One customer: the CRM company and its product organisation.

    The planted stray organisations reuse it: their ``company_id`` is None or
    one the CRM does not know. ``key`` seeds the account's daily RNG streams.
    """

    key: str
    company_id: str | None
    org_id: int
    name: str
    domain: str
    segment: str
    employees: int
    industry: str
    region: str
    owner_id: str | None
    parent_company_id: str | None
    created_at: datetime
    trajectory: str
    base_engagement: float
    adoption: float
    ramp_days: int
    decline_days: int
    value_ceiling: float  # caps perceived value: below 1 when usage brings no result
    churn_date: date | None
    expansion_date: date | None
    seats: int
    extra_seats: int
    maturity: dict[str, float]
    features: tuple[str, ...]
    menus: tuple[tuple[tuple[str, ...], tuple[int, ...]], ...]  # by breadth: names, cum weights
    members: tuple[Member, ...]
    expansions: tuple[Expansion, ...]
    contracts: tuple[Contract, ...]
    cmi_dates: tuple[date, ...]

    @property
    def created_on(self) -> date:
        return self.created_at.date()

    def exists_on(self, day: date) -> bool:
        return self.created_on <= day

    def alive_on(self, day: date) -> bool:
        """Signed and not yet churned: the product is in use."""
        return self.created_on <= day and (self.churn_date is None or day < self.churn_date)

    def engagement(self, day: date) -> float:
        """Nominal usage level on a day (about 0-1.3), before daily noise."""
        level = self.base_engagement
        if self.trajectory == "declining":
            decline_start = self.churn_date - timedelta(days=self.decline_days)
            if day >= decline_start:
                level *= 1 - 0.85 * (day - decline_start).days / self.decline_days
        elif self.trajectory == "growing":
            x = (day - self.expansion_date).days
            level *= 0.75 + 0.55 / (1 + math.exp(-(x + 20) / 15))
        elif self.trajectory == "onboarding":
            level *= min(1.0, 0.15 + (day - self.created_on).days / self.ramp_days)
        return level

    def perceived_value(self, day: date) -> float:
        """How much value the customer sees (0-1): drives NPS, CSAT, sentiment."""
        return min(self.value_ceiling, self.engagement(day) / 0.85)

    def breadth(self, day: date) -> int:
        """How many features are in use: shrinks and grows with engagement."""
        reach = 2 + 8 * self.adoption * min(1.0, self.engagement(day))
        return max(2, min(len(self.features), round(reach)))

    def seats_on(self, day: date) -> int:
        if self.churn_date is not None and day >= self.churn_date:
            return 0
        if self.expansion_date is not None and day >= self.expansion_date:
            return self.seats + self.extra_seats
        return self.seats

    def seat_changes(self) -> tuple[date, ...]:
        """Days the licensed seat count changed (creation included)."""
        changes = [self.created_on]
        if self.expansion_date is not None and self.extra_seats:
            changes.append(self.expansion_date)
        if self.churn_date is not None:
            changes.append(self.churn_date)
        return tuple(changes)


@dataclass(frozen=True)
class World:
    accounts: tuple[Account, ...]
    stray: tuple[Account, ...]  # product organisations with no (known) CRM company
    owners: tuple[Owner, ...]


@dataclass(frozen=True)
class NpsAnswer:
    account: Account
    submitted_at: datetime
    email: str
    nps: int
    csat: int | None
    token: str


@dataclass(frozen=True)
class CmiAnswer:
    account: Account
    submitted_at: datetime
    email: str
    answers: dict[str, int]
    token: str


@dataclass(frozen=True)
class SentimentEntry:
    entry_id: str
    account: Account
    recorded_at: datetime
    sentiment: int
    note: str


@dataclass(frozen=True)
class CsatRating:
    response_id: str
    account: Account
    submitted_at: datetime
    email: str
    answer: int


@dataclass(frozen=True)
class Voice:
    """What customers and CSMs said in a window: surveys and sentiment."""

    nps: tuple[NpsAnswer, ...]
    cmi: tuple[CmiAnswer, ...]
    sentiment: tuple[SentimentEntry, ...]
    csat: tuple[CsatRating, ...]


# Stable ids. The CRM and the product have separate id spaces, as in real life.
SANDBOX_ORG_ID = 1  # the vendor's own QA workspace: no CRM company at all
ORPHAN_ORG_ID = 2  # a workspace whose CRM company was deleted
ORPHAN_COMPANY_ID = "5999999998"


def company_id(index: int) -> str:
    return str(5_000_000_001 + index)


def org_id(index: int) -> int:
    return 1_001 + index


def member_id(organization_id: int, number: int) -> int:
    return organization_id * 1_000 + number


def event_id(day_ordinal: int, organization_id: int, sequence: int) -> int:
    """Unique and stable: the same event keeps its id whatever window is generated."""
    return (day_ordinal * 1_000_000 + organization_id) * 100_000 + sequence


def token(*parts: object) -> str:
    """A Typeform-like 32-character token derived from its identity."""
    return random.Random(":".join(map(str, parts))).randbytes(16).hex()


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def at_second(day: date, second: int) -> datetime:
    return datetime.combine(day, time(), UTC) + timedelta(seconds=second)


def business_second(rng: random.Random, region: str) -> int:
    start, end = REGION_HOURS[region]
    return rng.randint(start, end)


def build_world(accounts: int, seed: int) -> World:
    """The whole customer base; depends only on (accounts, seed)."""
    owners = tuple(
        Owner(owner_id, first, last, f"{first}.{last}@example.com".lower(), regions)
        for owner_id, first, last, regions in OWNERS
    )
    used_names: set[str] = set()
    built: list[Account] = []
    for index in range(accounts):
        parent = _parent_of(index, accounts)
        built.append(_build_account(index, seed, owners, used_names,
                                    built[parent] if parent is not None else None,
                                    _is_parent(index, accounts)))
    stray = (
        _build_stray(SANDBOX_ORG_ID, None, "Internal QA sandbox", "qa.vendor.example", seed),
        _build_stray(ORPHAN_ORG_ID, ORPHAN_COMPANY_ID, "Globex trial workspace",
                     "globex.example", seed),
    )
    return World(tuple(built), stray, owners)


def planted_account(world: World, start: date) -> Account:
    """The real account the planted bad rows refer to: the first one in
    business at the window's start, so a window extended forward keeps it."""
    alive = [a for a in world.accounts if a.alive_on(start) and a.owner_id]
    return (alive or list(world.accounts))[0]


def _parent_of(index: int, accounts: int) -> int | None:
    """Enterprise groups: every 50th account is a parent of the next two (three
    for every 100th); only complete groups are formed."""
    group_start = index - index % 50
    size = 3 if group_start % 100 == 0 else 2
    if 0 < index - group_start <= size and group_start + size < accounts:
        return group_start
    return None


def _is_parent(index: int, accounts: int) -> bool:
    return index % 50 == 0 and _parent_of(index + 1, accounts) == index


def _build_account(index: int, seed: int, owners: tuple[Owner, ...], used_names: set[str],
                   parent: Account | None, is_parent: bool) -> Account:
    rng = random.Random(f"{seed}:account:{index}")
    trajectory = _pick(rng, TRAJECTORY_WEIGHTS)
    region = _pick(rng, REGION_WEIGHTS)
    industry = rng.choice(sorted(INDUSTRIES))
    segment = _pick(rng, {name: spec[0] for name, spec in SEGMENTS.items()})
    if parent is not None:
        industry = parent.industry
        segment = rng.choice(("mid-market", "enterprise"))
        siblings = [r for r in REGION_WEIGHTS if r != parent.region]
        region = siblings[(index - int(parent.key) - 1) % len(siblings)]
    elif is_parent:
        segment = "enterprise"
        if trajectory == "onboarding":
            trajectory = "stable"
    _, employee_range, seat_range, price, fee = SEGMENTS[segment]
    employees = round(math.exp(rng.uniform(*map(math.log, employee_range))))
    seats = min(employees, rng.randint(*seat_range))

    name, domain = _company_name(rng, index, region, industry, used_names, parent, is_parent)
    owner_id = _pick_owner(rng, region, segment, owners)

    anchor = WORLD_ANCHOR
    churn_date = expansion_date = None
    decline_days = rng.randint(60, 90)
    ramp_days = rng.randint(30, 60)
    base = rng.uniform(0.45, 1.0)
    value_ceiling = 1.0
    if trajectory in ("declining", "high_usage_churn"):
        target = anchor + timedelta(days=rng.randint(-110, 35))
        years = rng.choice((1, 2, 3))
        created_on = add_years(target, -years)
        churn_date = add_years(created_on, years)
        if trajectory == "high_usage_churn":
            base = rng.uniform(0.95, 1.2)
            value_ceiling = rng.uniform(0.35, 0.5)
    elif trajectory == "growing":
        created_on = anchor - timedelta(days=rng.randint(380, 1460))
        expansion_date = anchor + timedelta(days=rng.randint(-140, 10))
    elif trajectory == "onboarding":
        created_on = anchor - timedelta(days=rng.randint(3, ONBOARDING_DAYS - 2))
        if rng.random() < 0.3:  # stalls: never gets going
            base = rng.uniform(0.2, 0.4)
    else:
        created_on = anchor - timedelta(days=rng.randint(100, 1460))
    created_at = at_second(created_on, business_second(rng, region))
    adoption = min(1.0, max(0.3, base * rng.uniform(0.7, 1.2)))

    extra_seats = round(seats * rng.uniform(0.3, 0.8)) if trajectory == "growing" else 0
    org = org_id(index)
    members = _members(rng, org, domain, region, segment, seats, extra_seats, created_at,
                       trajectory, ramp_days, churn_date, decline_days, expansion_date)
    expansions = _expansions(rng, index, trajectory, created_on, expansion_date, extra_seats,
                             seats * price + fee, price)
    contracts = _contracts(index, created_on, churn_date, seats * price + fee, expansions)

    extras = list(FEATURE_WEIGHTS)[CORE_FEATURES:]
    rng.shuffle(extras)
    features = (*list(FEATURE_WEIGHTS)[:CORE_FEATURES], *extras)
    menus = tuple(_menu(features[:breadth]) for breadth in range(len(features) + 1))

    health_bias = {"stable": 0.6, "growing": 0.8, "declining": 0.3, "onboarding": 0.4,
                   "high_usage_churn": 0.5}[trajectory]
    overall = 1.2 + 3.6 * (0.6 * rng.random() + 0.4 * health_bias)
    maturity = {c: min(5.0, max(1.0, overall + rng.gauss(0, 0.5))) for c in CMI_QUESTIONS}
    cmi_dates = _cmi_dates(rng, created_on)

    return Account(
        key=str(index), company_id=company_id(index), org_id=org, name=name, domain=domain,
        segment=segment, employees=employees, industry=industry, region=region,
        owner_id=owner_id, parent_company_id=parent.company_id if parent else None,
        created_at=created_at, trajectory=trajectory, base_engagement=base,
        adoption=adoption, ramp_days=ramp_days, decline_days=decline_days,
        value_ceiling=value_ceiling, churn_date=churn_date, expansion_date=expansion_date,
        seats=seats, extra_seats=extra_seats,
        maturity=maturity, features=features, menus=menus, members=members,
        expansions=expansions, contracts=contracts, cmi_dates=cmi_dates,
    )


def _build_stray(org: int, crm_id: str | None, name: str, domain: str, seed: int) -> Account:
    """A small, steady product organisation outside the CRM's book."""
    rng = random.Random(f"{seed}:stray:{org}")
    created_at = at_second(WORLD_ANCHOR - timedelta(days=400), 15 * 3600)
    members = _members(rng, org, domain, "NA", "SMB", 3, 0, created_at, "stable", 30,
                       None, 60, None)
    features = tuple(FEATURE_WEIGHTS)
    return Account(
        key=f"stray-{org}", company_id=crm_id, org_id=org, name=name, domain=domain,
        segment="SMB", employees=10, industry="Software", region="NA", owner_id=None,
        parent_company_id=None, created_at=created_at, trajectory="stable",
        base_engagement=0.5, adoption=0.5, ramp_days=30, decline_days=60,
        value_ceiling=1.0, churn_date=None, expansion_date=None, seats=3, extra_seats=0,
        maturity={}, features=features,
        menus=tuple(_menu(features[:b]) for b in range(len(features) + 1)),
        members=members, expansions=(), contracts=(), cmi_dates=(),
    )


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _menu(features: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[int, ...]]:
    cumulative, total = [], 0
    for feature in features:
        total += FEATURE_WEIGHTS[feature]
        cumulative.append(total)
    return features, tuple(cumulative)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _company_name(rng: random.Random, index: int, region: str, industry: str,
                  used: set[str], parent: Account | None, is_parent: bool) -> tuple[str, str]:
    legal = rng.choice(LEGAL_FORMS[region])
    if parent is not None:
        base = parent.name.split(" Holdings ")[0]
        name = f"{base} {SUBSIDIARY_LABELS[region]} {legal}"
        return name, f"{region.lower()}.{parent.domain}"
    for _ in range(20):
        base = f"{rng.choice(NAME_PREFIXES[region])} {rng.choice(INDUSTRIES[industry])}"
        if base not in used:
            break
    else:  # a crowded region of a very large demo
        base = f"{base} {index}"
    used.add(base)
    holdings = " Holdings" if is_parent else ""
    return f"{base}{holdings} {legal}", f"{_slug(base)}.example"


def _pick_owner(rng: random.Random, region: str, segment: str,
                owners: tuple[Owner, ...]) -> str | None:
    if segment == "SMB" and rng.random() < UNOWNED_SMB_SHARE:
        return None
    return rng.choice([o.owner_id for o in owners if region in o.regions])


def _members(rng: random.Random, org: int, domain: str, region: str, segment: str,
             seats: int, extra_seats: int, created_at: datetime, trajectory: str,
             ramp_days: int, churn_date: date | None, decline_days: int,
             expansion_date: date | None) -> tuple[Member, ...]:
    """People in the organisation over its life, with join and removal times."""
    first_names, last_names = PEOPLE[region]
    emails: set[str] = set()
    members: list[Member] = []

    def add(joined: datetime, removed: datetime | None) -> None:
        number = len(members) + 1
        local = f"{rng.choice(first_names)}.{rng.choice(last_names)}".lower()
        email = f"{local}@{domain}"
        if email in emails:
            email = f"{local}{number}@{domain}"
        emails.add(email)
        admins = 3 if segment == "enterprise" else 1
        if number == 1:
            role = "owner"
        elif number <= 1 + admins:
            role = "admin"
        else:
            role = "viewer" if rng.random() < 0.15 else "member"
        propensity = min(2.5, max(0.15, rng.lognormvariate(0, 0.5)))
        propensity *= {"owner": 1.3, "admin": 1.3, "member": 1.0, "viewer": 0.4}[role]
        members.append(Member(member_id(org, number), email, role, joined, removed, propensity))

    def moment(day: date) -> datetime:
        return at_second(day, business_second(rng, region))

    created_on = created_at.date()
    add(created_at, None)
    initial = max(2, round(seats * rng.uniform(0.6, 0.95)))
    for _ in range(initial - 1):
        joined = moment(created_on + timedelta(days=rng.randint(1, ramp_days)))
        removed = None
        if trajectory == "declining" and rng.random() < 0.35:
            decline_start = churn_date - timedelta(days=decline_days)
            removed = moment(decline_start + timedelta(days=rng.randint(0, decline_days - 1)))
        elif trajectory != "onboarding" and rng.random() < 0.12:  # ordinary staff turnover
            removed = moment(created_on + timedelta(days=rng.randint(ramp_days + 30, 1500)))
        if removed is not None and removed <= joined:
            removed = None
        add(joined, removed)
        if removed is not None and trajectory != "declining":
            add(moment(removed.date() + timedelta(days=rng.randint(1, 10))), None)
    for _ in range(extra_seats):
        add(moment(expansion_date + timedelta(days=rng.randint(-45, 30))), None)
    return tuple(members)


def _expansions(rng: random.Random, index: int, trajectory: str, created_on: date,
                expansion_date: date | None, extra_seats: int, arr: int,
                price: int) -> tuple[Expansion, ...]:
    deals: list[tuple[str, date, int]] = []
    if trajectory == "growing":
        deals.append(("upsell", expansion_date, extra_seats * price))
        if rng.random() < 0.5:
            later = expansion_date + timedelta(days=rng.randint(20, 60))
            deals.append(("cross_sell", later, _hundreds(arr * rng.uniform(0.1, 0.25))))
    elif trajectory == "stable" and rng.random() < 0.08:  # expansions happen without a story too
        day = created_on + timedelta(days=rng.randint(60, 1400))
        deals.append(("cross_sell", day, _hundreds(arr * rng.uniform(0.05, 0.15))))
    return tuple(
        Expansion(str(8_000_000_000 + index * 100 + number), kind,
                  at_second(day, rng.randint(8 * 3600, 20 * 3600)), delta)
        for number, (kind, day, delta) in enumerate(deals)
    )


def _contracts(index: int, created_on: date, churn_date: date | None, arr: int,
               expansions: tuple[Expansion, ...]) -> tuple[Contract, ...]:
    """Yearly terms from signature; an expansion raises the next term's ARR.

    Terms are listed a few years past the anchor so any reasonable end date
    finds its running term; renderers keep those started by the end date."""
    contracts = []
    horizon = add_years(WORLD_ANCHOR, 3)
    number, start = 0, created_on
    while start <= horizon:
        end = add_years(created_on, number + 1)
        uplift = sum(e.arr_delta for e in expansions if e.closed_at.date() < start)
        yearly_price_rise = 1.03 ** number
        contracts.append(Contract(str(7_000_000_000 + index * 100 + number), start, end,
                                  _hundreds(arr * yearly_price_rise + uplift)))
        if end == churn_date:
            break
        number, start = number + 1, end
    return tuple(contracts)


def _hundreds(amount: float) -> int:
    return int(round(amount, -2))


def _cmi_dates(rng: random.Random, created_on: date) -> tuple[date, ...]:
    """Respondents answer the maturity questionnaire about twice a year."""
    if rng.random() >= CMI_RESPONDENT_SHARE:
        return ()
    dates, day = [], created_on + timedelta(days=rng.randint(30, 150))
    while day <= add_years(WORLD_ANCHOR, 3):
        dates.append(day)
        day += timedelta(days=rng.randint(175, 230))
    return tuple(dates)


def day_events(account: Account, day: date, seed: int) -> list[tuple[int, int, str, int, int]]:
    """The product events of one organisation on one day, in time order.

    Rows are (event id, member id, event name, second of the UTC day,
    duration ms); ``login`` opens a session and its duration is the session's.
    """
    if not account.alive_on(day):
        return []
    ordinal = day.toordinal()
    rng = random.Random(f"{seed}:{account.key}:{ordinal}:events")
    level = account.engagement(day) * rng.lognormvariate(0, 0.25)
    if day.weekday() >= 5:
        level *= WEEKEND_FACTOR
    if rng.random() < 0.03:  # a quiet day: offsite, holiday, outage
        level *= 0.3
    names, cumulative = account.menus[account.breadth(day)]
    day_start, day_end = REGION_HOURS[account.region]
    session_median_ms = 360_000 * (0.5 + level)
    mean_actions = 0.5 + 2.5 * level
    inviter = account.members[0].member_id
    rows: list[tuple[int, str, int, int]] = []
    for member in account.members:
        if member.created_at.toordinal() == ordinal and member.member_id != inviter:
            second = max(0, member.created_at.hour * 3600 + member.created_at.minute * 60 - 60)
            rows.append((inviter, "member_invited", second, rng.randint(2_000, 20_000)))
        if not member.active_on(ordinal):
            continue
        if rng.random() >= min(0.92, 0.35 * level * member.propensity):
            continue
        sessions = 2 if rng.random() < 0.2 * level else 1
        for _ in range(sessions):
            second = rng.randint(day_start, day_end)
            session_ms = int(rng.lognormvariate(math.log(session_median_ms), 0.6))
            rows.append((member.member_id, "login", second, session_ms))
            for _ in range(int(rng.expovariate(1 / mean_actions))):
                second = min(86_399, second + rng.randint(5, 120))
                name = rng.choices(names, cum_weights=cumulative)[0]
                rows.append((member.member_id, name, second, rng.randint(800, 60_000)))
    rows.sort(key=lambda row: row[2])
    return [(event_id(ordinal, account.org_id, sequence), *row)
            for sequence, row in enumerate(rows, start=1)]


def simulate_voice(world: World, start: date, end: date, seed: int) -> Voice:
    """Surveys and CSM sentiment over [start, end], each day from its own streams."""
    nps, cmi, sentiment, csat = [], [], [], []
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    for account in world.accounts:
        for day in days:
            if not account.alive_on(day):
                continue
            present = [m for m in account.members if m.active_on(day.toordinal())]
            if not present:
                continue
            rng = random.Random(f"{seed}:{account.key}:{day.toordinal()}:voice")
            value = account.perceived_value(day)
            if day.weekday() < 5 and rng.random() < NPS_DAILY_CHANCE:
                nps.append(_nps_answer(rng, account, day, present, value, seed))
            if account.owner_id and rng.random() < SENTIMENT_DAILY_CHANCE[account.segment]:
                sentiment.append(_sentiment(rng, account, day, value))
            if day in account.cmi_dates:
                cmi.append(_cmi_answer(rng, account, day, present, seed))
    for day in days:
        csat.extend(_support_ratings(world, day, seed))
    return Voice(tuple(nps), tuple(cmi), tuple(sentiment), tuple(csat))


def _nps_answer(rng: random.Random, account: Account, day: date, present: list[Member],
                value: float, seed: int) -> NpsAnswer:
    respondent = rng.choice(present)
    score = min(10, max(0, round(rng.gauss(2.5 + 7 * value, 1.5))))
    csat = None
    if rng.random() < CSAT_WITH_NPS_SHARE:
        csat = min(5, max(1, round(rng.gauss(1.5 + 3.5 * value, 0.7))))
    submitted = at_second(day, business_second(rng, account.region))
    return NpsAnswer(account, submitted, respondent.email, score, csat,
                     token(seed, account.key, day.toordinal(), "nps"))


def _sentiment(rng: random.Random, account: Account, day: date, value: float) -> SentimentEntry:
    view = value + rng.gauss(0, 0.15)
    score = 3 if view >= 0.75 else 2 if view >= 0.45 else 1
    note = rng.choice(SENTIMENT_NOTES[score])
    if account.trajectory == "high_usage_churn" and score < 3:
        note = NO_RESULT_NOTE
    recorded = at_second(day, business_second(rng, account.region))
    entry_id = str(6_000_000_000_000 + int(account.key) * 1_000_000 + day.toordinal())
    return SentimentEntry(entry_id, account, recorded, score, note)


def _cmi_answer(rng: random.Random, account: Account, day: date, present: list[Member],
                seed: int) -> CmiAnswer:
    leads = [m for m in present if m.role in ("owner", "admin")] or present
    respondent = rng.choice(leads)
    answers = {
        question: min(5, max(1, round(rng.gauss(account.maturity[characteristic], 0.6))))
        for characteristic, questions in CMI_QUESTIONS.items()
        for question in questions
    }
    submitted = at_second(day, business_second(rng, account.region))
    return CmiAnswer(account, submitted, respondent.email, answers,
                     token(seed, account.key, day.toordinal(), "cmi"))


def _support_ratings(world: World, day: date, seed: int) -> list[CsatRating]:
    """A support desk's satisfaction ratings: a few a week across all accounts."""
    rng = random.Random(f"{seed}:support:{day.toordinal()}")
    draw = rng.random()
    if day.weekday() >= 5:
        count = 1 if draw < 0.1 else 0
    else:
        count = 2 if draw < 0.12 else 1 if draw < 0.6 else 0
    candidates = [a for a in world.accounts if a.alive_on(day)]
    ratings = []
    for number in range(1, count + 1):
        if not candidates:
            break
        account = rng.choice(candidates)
        present = [m for m in account.members if m.active_on(day.toordinal())]
        if not present:
            continue
        answer = min(5, max(1, round(rng.gauss(1.8 + 3.2 * account.perceived_value(day), 0.8))))
        ratings.append(CsatRating(f"zd-{day:%Y%m%d}-{number}", account,
                                  at_second(day, business_second(rng, account.region)),
                                  rng.choice(present).email, answer))
    return ratings
