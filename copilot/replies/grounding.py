"""Keeping drafts true, and secrets away from the model. Pure functions, no I/O.

Grounding: every order number, amount, date, tracking number, link, duration ("30 days") and
percentage a draft states must appear in the facts it was given (the customer's orders, the
store's policies, the shortcuts the org wrote). A sentence that states anything else is cut out;
a draft that loses too much that way is dropped. Promises the policies do not make (free returns,
a full refund, a discount...) are treated the same way. What the customer wrote is not a fact: a
customer may quote an order number that is not theirs.

Masking: card numbers (Luhn-checked), security codes, passwords, one-time codes, API keys and
tokens, bank accounts and US social security numbers are replaced by a bracketed label before any
text leaves for the model.
"""

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from .facts import Facts

# --- claims -------------------------------------------------------------------------------------

ORDER = "order number"
AMOUNT = "amount"
DATE = "date"
TRACKING = "tracking number"
LINK = "link"
DURATION = "duration"
PERCENT = "percentage"


@dataclass(frozen=True)
class Claim:
    kind: str
    text: str  # as written in the draft
    value: object  # normalised, comparable with the facts
    start: int
    end: int


_URL = re.compile(r"https?://[^\s<>()\"']+", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}|\{\{[\w.]+\}\}")

_ORDER_WORDS = (
    r"order|orders|orden|pedido|pedidos|commande|commandes|bestellung|bestellnummer|auftrag"
)
_NUMBER_WORDS = r"number|no\.?|nr\.?|n[°º]\.?|n\.º|núm\.?|número|numero|numéro|nummer|#"
_ORDER_NUMBER = re.compile(
    rf"(?:#\s?(?P<hash>\d{{3,12}})\b)|"
    rf"(?:\b(?:{_ORDER_WORDS})\s*(?:(?:{_NUMBER_WORDS})\s*)?[:#]?\s*(?P<word>\d{{3,12}})\b)",
    re.IGNORECASE,
)
_UPS = re.compile(r"\b1Z[0-9A-Z]{10,16}\b", re.IGNORECASE)
# Letters and at least five digits in one token of 10+ characters: a carrier's code.
_CODE = re.compile(r"\b(?=[A-Z0-9]*\d{5})(?=[A-Z0-9]*[A-Z])[A-Z0-9]{10,30}\b", re.IGNORECASE)
_ALNUM_TRACKING = re.compile(r"\b[A-Z]{2}\d{9}[A-Z]{2}\b")  # UPU (postal) format
_LONG_NUMBER = re.compile(r"(?<![\d.,])\d(?:[ -]?\d){9,29}(?![\d])")

_CURRENCY_BEFORE = r"US\$|CA\$|A\$|\$|€|£|¥|USD|EUR|GBP|CAD|AUD|CHF|JPY"
_CURRENCY_AFTER = (
    r"US\$|CA\$|A\$|\$|€|£|¥|USD|EUR|GBP|CAD|AUD|CHF|JPY|dollars?|euros?|pounds?|dólares|"
    r"dollars?|livres?"
)
_AMOUNT = re.compile(
    rf"(?:(?P<cur1>{_CURRENCY_BEFORE})\s?(?P<num1>\d[\d.,]*\d|\d))|"
    rf"(?:(?P<num2>\d[\d.,]*\d|\d)\s?(?P<cur2>{_CURRENCY_AFTER})(?![A-Za-z]))",
    re.IGNORECASE,
)
_CURRENCIES = {
    "$": {"USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN"},
    "us$": {"USD"},
    "ca$": {"CAD"},
    "a$": {"AUD"},
    "€": {"EUR"},
    "£": {"GBP"},
    "¥": {"JPY", "CNY"},
    "dollar": {"USD", "CAD", "AUD", "NZD", "SGD", "HKD"},
    "dollars": {"USD", "CAD", "AUD", "NZD", "SGD", "HKD"},
    "dólares": {"USD", "CAD", "AUD", "MXN"},
    "euro": {"EUR"},
    "euros": {"EUR"},
    "pound": {"GBP"},
    "pounds": {"GBP"},
    "livre": {"GBP"},
    "livres": {"GBP"},
}

_MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4,
    "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7,
    "agosto": 8, "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11,
    "diciembre": 12,
    "janvier": 1, "février": 2, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6,
    "juillet": 7, "août": 8, "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11,
    "décembre": 12, "decembre": 12,
    "januar": 1, "jänner": 1, "februar": 2, "märz": 3, "maerz": 3, "juni": 6, "juli": 7,
    "oktober": 10, "dezember": 12,
}  # fmt: skip
_MONTH = "|".join(sorted(map(re.escape, _MONTHS), key=len, reverse=True))
_ISO_DATE = re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b")
_SLASH_DATE = re.compile(r"\b(?P<a>\d{1,2})[/.](?P<b>\d{1,2})[/.](?P<y>\d{2,4})\b")
_MONTH_DAY = re.compile(
    rf"\b(?P<month>{_MONTH})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<year>\d{{4}}))?",
    re.IGNORECASE,
)
_DAY_MONTH = re.compile(
    rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th|er|\.|º)?\s+(?:de\s+|of\s+)?(?P<month>{_MONTH})\b\.?"
    rf"(?:,?\s+(?:de\s+)?(?P<year>\d{{4}}))?",
    re.IGNORECASE,
)

_UNITS = {
    "day": "day", "days": "day", "día": "day", "días": "day", "dia": "day", "dias": "day",
    "jour": "day", "jours": "day", "tag": "day", "tage": "day", "tagen": "day",
    "werktag": "day", "werktage": "day", "werktagen": "day", "hour": "hour", "hours": "hour",
    "hora": "hour", "horas": "hour", "heure": "hour", "heures": "hour", "stunde": "hour",
    "stunden": "hour", "h": "hour", "week": "week", "weeks": "week", "semana": "week",
    "semanas": "week", "semaine": "week", "semaines": "week", "woche": "week", "wochen": "week",
    "month": "month", "months": "month", "mes": "month", "meses": "month", "mois": "month",
    "monat": "month", "monate": "month", "monaten": "month",
}  # fmt: skip
_UNIT = "|".join(sorted(map(re.escape, _UNITS), key=len, reverse=True))
_DURATION = re.compile(
    rf"\b(?P<a>\d{{1,3}})(?:\s*(?:-|\u2013|to|a|à|au|bis|y|and|et|und|or|o|ou|oder)\s*"
    rf"(?P<b>\d{{1,3}}))?[\s-]*(?:business\s+|working\s+|calendar\s+|full\s+)?(?P<unit>{_UNIT})\b",
    re.IGNORECASE,
)
_AGO = re.compile(r"^\s*(?:ago|back)\b", re.IGNORECASE)
_AGO_BEFORE = re.compile(r"(?:hace|il y a|vor)\s*$", re.IGNORECASE)
_PERCENT = re.compile(
    r"\b(?P<n>\d{1,3}(?:[.,]\d+)?)\s?(?:%|percent\b|per cent\b|por ciento\b|pour cent\b|"
    r"prozent\b)",
    re.IGNORECASE,
)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _tracking_key(text: str) -> str:
    return re.sub(r"[\s-]", "", text).upper()


def _url_key(url: str) -> str:
    url = url.rstrip(".,;:!?)]}'\"")
    scheme, _, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    return f"{scheme.lower()}://{host.lower()}{slash}{path}".rstrip("/")


def parse_amount(number: str) -> Decimal | None:
    """`1,234.56`, `1.234,56`, `12,50`, `89` → Decimal; the last separator before 1-2 digits is
    the decimal one, the others group thousands."""
    text = number.strip()
    last = max(text.rfind(","), text.rfind("."))
    if last != -1 and 1 <= len(text) - last - 1 <= 2:
        whole, fraction = text[:last], text[last + 1 :]
    else:
        whole, fraction = text, ""
    whole = re.sub(r"[.,\s]", "", whole)
    try:
        return Decimal(f"{whole}.{fraction}" if fraction else whole).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None


def _date_value(year: str | None, month: int, day: int) -> tuple[int, int, int | None] | None:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    full_year = None
    if year:
        full_year = int(year) + (2000 if len(year) == 2 else 0)
    return (month, day, full_year)


def _masked_spans(text: str) -> list[tuple[int, int]]:
    """URLs, email addresses and placeholders: their digits are not claims of their own."""
    spans = [match.span() for match in _URL.finditer(text)]
    spans += [match.span() for match in _EMAIL.finditer(text)]
    spans += [match.span() for match in _PLACEHOLDER.finditer(text)]
    return spans


def _inside(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(start < span_end and end > span_start for span_start, span_end in spans)


def extract_claims(text: str) -> list[Claim]:
    """Every checkable statement in `text`: order numbers, amounts, dates, tracking numbers,
    links, durations and percentages (each span counted once, the most specific kind first)."""
    claims: list[Claim] = []
    for match in _URL.finditer(text):
        claims.append(Claim(LINK, match.group(0), _url_key(match.group(0)), *match.span()))
    taken = _masked_spans(text)

    def add(kind: str, match: re.Match, value: object, group: int | str = 0) -> None:
        start, end = match.span(group)
        if _inside(taken, start, end):
            return
        claims.append(Claim(kind, match.group(group), value, start, end))
        taken.append((start, end))

    for pattern in (_UPS, _ALNUM_TRACKING, _CODE):
        for match in pattern.finditer(text):
            add(TRACKING, match, _tracking_key(match.group(0)))
    for match in _ISO_DATE.finditer(text):
        value = _date_value(match["y"], int(match["m"]), int(match["d"]))
        if value:
            add(DATE, match, value)
    for match in _SLASH_DATE.finditer(text):
        first, second = int(match["a"]), int(match["b"])
        # 03/04/2026 is March 4 in the US and 3 April elsewhere: either reading may be grounded.
        readings = [
            value
            for value in (
                _date_value(match["y"], first, second),
                _date_value(match["y"], second, first),
            )
            if value
        ]
        if readings:
            add(DATE, match, tuple(readings))
    for pattern in (_MONTH_DAY, _DAY_MONTH):
        for match in pattern.finditer(text):
            value = _date_value(match["year"], _MONTHS[match["month"].lower()], int(match["day"]))
            if value:
                add(DATE, match, value)
    for match in _AMOUNT.finditer(text):
        number = match["num1"] or match["num2"]
        currency = (match["cur1"] or match["cur2"] or "").lower()
        value = parse_amount(number)
        if value is not None:
            codes = _CURRENCIES.get(currency, {currency.upper()} if currency else set())
            add(AMOUNT, match, (value, frozenset(codes)))
    for match in _ORDER_NUMBER.finditer(text):
        group = "hash" if match["hash"] else "word"
        add(ORDER, match, match[group], group)
    for match in _PERCENT.finditer(text):
        add(PERCENT, match, parse_amount(match["n"]))
    for match in _DURATION.finditer(text):
        if _AGO.match(text[match.end() :]) or _AGO_BEFORE.search(text[: match.start()]):
            continue  # "placed 2 days ago" says when, and the date check covers dates
        unit = _UNITS[match["unit"].lower()]
        numbers = [int(match["a"])] + ([int(match["b"])] if match["b"] else [])
        add(DURATION, match, tuple((number, unit) for number in numbers))
    for match in _LONG_NUMBER.finditer(text):
        add(TRACKING, match, _tracking_key(match.group(0)))
    return sorted(claims, key=lambda claim: claim.start)


# --- what the facts allow -----------------------------------------------------------------------


@dataclass
class Allowed:
    """The values a draft may state, gathered from the facts."""

    order_numbers: set[str] = field(default_factory=set)
    amounts: set[tuple[Decimal, str]] = field(default_factory=set)
    dates: set[date] = field(default_factory=set)
    partial_dates: set[tuple[int, int, int | None]] = field(default_factory=set)
    tracking: set[str] = field(default_factory=set)
    links: set[str] = field(default_factory=set)
    durations: set[tuple[int, str]] = field(default_factory=set)
    percents: set[Decimal] = field(default_factory=set)
    texts: list[str] = field(default_factory=list)  # policy and shortcut texts, for promises

    def add_text(self, text: str) -> None:
        """Whatever a text the store wrote states is allowed too."""
        self.texts.append(text)
        for claim in extract_claims(text):
            if claim.kind == ORDER:
                self.order_numbers.add(claim.value)
            elif claim.kind == AMOUNT:
                self.amounts.add((claim.value[0], ""))
            elif claim.kind == DATE:
                readings = claim.value if isinstance(claim.value[0], tuple) else (claim.value,)
                self.partial_dates.update(readings)
            elif claim.kind == TRACKING:
                self.tracking.add(claim.value)
            elif claim.kind == LINK:
                self.links.add(claim.value)
            elif claim.kind == DURATION:
                self.durations.update(claim.value)
            elif claim.kind == PERCENT:
                self.percents.add(claim.value)

    def allows(self, claim: Claim) -> bool:
        if claim.kind == ORDER:
            return claim.value in self.order_numbers
        if claim.kind == AMOUNT:
            value, codes = claim.value
            return any(
                amount == value and (not codes or not currency or currency in codes)
                for amount, currency in self.amounts
            )
        if claim.kind == DATE:
            readings = claim.value if isinstance(claim.value[0], tuple) else (claim.value,)
            return any(self._date_allowed(reading) for reading in readings)
        if claim.kind == TRACKING:
            # An order number written without "#" or "order" looks like any number.
            return claim.value in self.tracking or claim.value in self.order_numbers
        if claim.kind == LINK:
            return claim.value in self.links
        if claim.kind == DURATION:
            return all(part in self.durations for part in claim.value)
        if claim.kind == PERCENT:
            return claim.value in self.percents
        return False

    def _date_allowed(self, reading: tuple[int, int, int | None]) -> bool:
        month, day, year = reading
        for known in self.dates:
            if known.month == month and known.day == day and year in (None, known.year):
                return True
        return any(
            known_month == month
            and known_day == day
            and (year is None or known_year in (None, year))
            for known_month, known_day, known_year in self.partial_dates
        )


def allowed_from_facts(facts: Facts) -> Allowed:
    allowed = Allowed()
    for order in facts.orders:
        if order.digits:
            allowed.order_numbers.add(order.digits)
        for money in order.money_values():
            allowed.amounts.add((money.amount.quantize(Decimal("0.01")), money.currency_code))
        allowed.dates.update(order.dates())
        for shipment in order.shipments:
            if shipment.tracking_number:
                allowed.tracking.add(_tracking_key(shipment.tracking_number))
            if shipment.tracking_url:
                allowed.links.add(_url_key(shipment.tracking_url))
        if order.status_url:
            allowed.links.add(_url_key(order.status_url))
    for policy in facts.policies:
        allowed.add_text(policy.text)
    for shortcut in facts.shortcuts:
        allowed.add_text(shortcut.text)
    return allowed


# --- promises -------------------------------------------------------------------------------

# (what is promised, how a draft says it, how a policy or shortcut would allow it)
PROMISES = [
    (
        "free returns",
        r"free returns?|returns? (?:are|is) free|prepaid (?:return )?label|return shipping is "
        r"(?:free|on us)|devoluci[oó]n gratuita|etiqueta prepagada|retour gratuit|[ée]tiquette "
        r"pr[ée]pay[ée]e|kostenlose r[üu]cksendung|kostenloser r[üu]ckversand",
        r"free return|prepaid|on us|gratuit|kostenlos|prepagad",
    ),
    (
        "a full refund",
        r"full refund|refund (?:you )?in full|reembolso (?:completo|total|íntegro)|"
        r"remboursement (?:complet|int[ée]gral|total)|volle r[üu]ckerstattung|vollst[äa]ndige "
        r"r[üu]ckerstattung",
        r"full refund|in full|reembolso (?:completo|total)|remboursement (?:complet|int[ée]gral)|"
        r"vollst[äa]ndig",
    ),
    (
        "free or faster shipping",
        r"free (?:express |expedited |overnight )?shipping|upgrad\w* .{0,30}(?:express|expedited|"
        r"overnight|priority)|env[ií]o (?:gratis|gratuito|express)|livraison (?:gratuite|express)|"
        r"kostenlose[rn]? (?:versand|lieferung)|expressversand",
        r"free shipping|express|expedited|overnight|env[ií]o gratis|livraison gratuite|"
        r"kostenlose[rn]? versand",
    ),
    (
        "a discount or credit",
        r"discount|coupon|voucher|store credit|gift card|promo(?:tion(?:al)?)? code|"
        r"compensation|goodwill|descuento|cup[oó]n|r[ée]duction|bon d'achat|"
        r"code promo|rabatt|gutschein",
        r"discount|coupon|voucher|store credit|gift card|promo|compensation|goodwill|descuento|"
        r"r[ée]duction|rabatt|gutschein",
    ),
    (
        "keeping the item without returning it",
        r"keep (?:the|your) (?:item|order|product)|no need to (?:return|send)|qu[ée]dese con|"
        r"gardez (?:l'article|le produit)|behalten sie",
        r"keep the item|no need to return|keep (?:it|the)",
    ),
    (
        "a guaranteed delivery",
        r"guarantee[ds]?|garantizad[oa]|garanti[e]?|garantiert",
        r"guarantee|garantiz|garanti",
    ),
]  # fmt: skip
_PROMISES = [
    (name, re.compile(said, re.IGNORECASE), re.compile(allowed, re.IGNORECASE))
    for name, said, allowed in PROMISES
]


@dataclass(frozen=True)
class Problem:
    kind: str
    text: str
    start: int
    end: int

    def describe(self) -> str:
        if self.kind == "promise":
            return f"promises {self.text}, which no policy offers"
        return f"{self.kind} {self.text!r} is not in the facts"


def find_problems(text: str, allowed: Allowed) -> list[Problem]:
    """Every claim the facts do not back and every promise no policy makes."""
    problems = [
        Problem(claim.kind, claim.text, claim.start, claim.end)
        for claim in extract_claims(text)
        if not allowed.allows(claim)
    ]
    for name, said, allows in _PROMISES:
        for match in said.finditer(text):
            if not any(allows.search(source) for source in allowed.texts):
                problems.append(Problem("promise", name, *match.span()))
    return sorted(problems, key=lambda problem: problem.start)


# --- repair ---------------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"[.!?]+(?=\s)|\n")
_GREETING = re.compile(
    r"^\s*(?:hi|hello|hey|dear|hola|estimad[oa]|bonjour|salut|cher|ch[èe]re|hallo|guten tag|"
    r"liebe[rs]?|sehr geehrte)\b",
    re.IGNORECASE,
)
MIN_KEPT_SHARE = 0.5
MIN_KEPT_CHARACTERS = 40


@dataclass(frozen=True)
class GroundingResult:
    text: str  # the draft as it may be shown (repaired), or "" when dropped
    problems: tuple[Problem, ...]
    repaired: bool

    @property
    def dropped(self) -> bool:
        return not self.text

    @property
    def notes(self) -> list[str]:
        return [problem.describe() for problem in self.problems]


def _sentences(text: str) -> list[tuple[int, int]]:
    """Spans of sentences and lines ("$145.00" and links do not end a sentence)."""
    spans, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        spans.append((start, match.end()))
        start = match.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def _body_length(text: str) -> int:
    """Characters of substance: without the greeting line and the sign-off."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if lines and _GREETING.match(lines[0]) and len(lines[0]) < 60:
        lines = lines[1:]
    lines = [line for line in lines if not _PLACEHOLDER.fullmatch(line.strip())]
    if len(lines) > 1 and len(lines[-1]) < 40 and not lines[-1].rstrip().endswith((".", "?")):
        lines = lines[:-2] if len(lines[-2]) < 30 else lines[:-1]  # "Best," / "{agent}"
    return sum(len(line.strip()) for line in lines)


def check_draft(text: str, allowed: Allowed) -> GroundingResult:
    """The draft as it may be shown: unchanged, repaired (offending sentences cut), or dropped.

    A repaired draft must keep at least half its substance and 40 characters; less would read
    as a non-answer, so it is dropped instead.
    """
    problems = find_problems(text, allowed)
    if not problems:
        return GroundingResult(text, (), False)
    kept = []
    for start, end in _sentences(text):
        sentence = text[start:end]
        if any(problem.start < end and problem.end > start for problem in problems):
            # Keep the line break that ended a cut line, so paragraphs stay apart.
            kept.append("\n" if sentence.endswith("\n") else "")
        else:
            kept.append(sentence)
    repaired = "".join(kept)
    repaired = re.sub(r"[ \t]+\n", "\n", repaired)
    repaired = re.sub(r"\n{3,}", "\n\n", repaired).strip()
    repaired = re.sub(r"(?<=[.!?,])(?=[A-ZÀ-Ý¿¡])", " ", repaired)
    original_body = _body_length(text)
    kept_body = _body_length(repaired)
    if (
        find_problems(repaired, allowed)
        or kept_body < MIN_KEPT_CHARACTERS
        or kept_body < MIN_KEPT_SHARE * original_body
    ):
        return GroundingResult("", tuple(problems), False)
    return GroundingResult(repaired, tuple(problems), True)


# --- masking --------------------------------------------------------------------------------


def _luhn_valid(digits: str) -> bool:
    total = 0
    for index, character in enumerate(reversed(digits)):
        digit = int(character)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


# Not part of a longer run of digit groups (a tracking number can hold a card-like stretch).
_CARD = re.compile(r"(?<!\d)(?<!\d[ -])\d(?:[ -]?\d){12,18}(?!\d)(?![ -]\d)")
_SECRET_AFTER_WORD = [
    (
        re.compile(
            r"\b(?P<word>cvv2?|cvc2?|csc|security code|card code|c[oó]digo de seguridad|"
            r"cryptogramme|pr[üu]fziffer|pr[üu]fnummer)\b(?P<sep>\s*(?:(?:ist|is|est|es)\b|:|=|-)?\s*)"
            r"(?P<secret>\d{3,4})\b",
            re.IGNORECASE,
        ),
        "[security code removed]",
    ),
    (
        re.compile(
            r"\b(?P<word>password|passwd|pwd|passcode|pin|contrase[ñn]a|clave|mot de passe|"
            r"passwort|kennwort)\b(?P<sep>\s*(?:(?:ist|is|was|war|est|es|era|était)\b|:|=)\s*)"
            r"(?P<secret>\S+)",
            re.IGNORECASE,
        ),
        "[password removed]",
    ),
    (
        re.compile(
            r"\b(?P<word>(?:verification|security|one[- ]time|login|sign[- ]in|2fa|otp|"
            r"authentication|confirmation) code|código de verificación|code de vérification|"
            r"bestätigungscode|verifizierungscode)\b(?P<sep>\s*(?:(?:ist|is|est|es)\b|:|=)?\s*)"
            r"(?P<secret>\d{4,8})\b",
            re.IGNORECASE,
        ),
        "[code removed]",
    ),
    (
        re.compile(
            r"\b(?P<word>api[ _-]?key|secret|token|access key|private key)\b"
            r"(?P<sep>\s*(?:(?:ist|is|est|es)\b|:|=)\s*)(?P<secret>\S{8,})",
            re.IGNORECASE,
        ),
        "[secret removed]",
    ),
]
_KEY_LABEL = "[secret removed]"
_SECRETS = [
    (re.compile(r"\b(?:sk|pk|rk)[-_](?:live|test|proj)?[-_]?[A-Za-z0-9_-]{16,}"), _KEY_LABEL),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"), _KEY_LABEL),
    (re.compile(r"\bxox[abpr]-[A-Za-z0-9-]{10,}"), _KEY_LABEL),
    (re.compile(r"\bAKIA[0-9A-Z]{16}\b"), _KEY_LABEL),
    (
        re.compile(r"\bey[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
        "[token removed]",
    ),
    (
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
        "[private key removed]",
    ),
    (
        re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,3})?\b"),
        "[bank account removed]",
    ),
    (re.compile(r"\b\d{3}-\d{2}-\d{4}\b"), "[SSN removed]"),
]


@dataclass(frozen=True)
class Masked:
    text: str
    removed: tuple[str, ...]  # labels of what was masked, for the log (never the values)


def mask_secrets(text: str) -> Masked:
    """`text` with card numbers, passwords, codes and keys replaced by a label."""
    removed: list[str] = []

    def card(match: re.Match) -> str:
        digits = _digits(match.group(0))
        if 13 <= len(digits) <= 19 and _luhn_valid(digits):
            removed.append("card number")
            return "[card number removed]"
        return match.group(0)

    text = _CARD.sub(card, text or "")
    for pattern, label in _SECRET_AFTER_WORD:

        def after_word(match: re.Match, label: str = label) -> str:
            removed.append(label.strip("[]").replace(" removed", ""))
            return f"{match['word']}{match['sep']}{label}"

        text = pattern.sub(after_word, text)
    for pattern, label in _SECRETS:

        def whole(match: re.Match, label: str = label) -> str:
            removed.append(label.strip("[]").replace(" removed", ""))
            return label

        text = pattern.sub(whole, text)
    return Masked(text, tuple(removed))
