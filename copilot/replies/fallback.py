"""Drafts without a model: the org's Kustomer shortcuts and the reply templates, ranked by fit.

Pure. Fit is the TF-IDF cosine between the customer's message and a candidate's name and text,
plus its cosine with the predicted intent's description, plus a bonus when the candidate is for
that intent (a template written for it, a shortcut whose words match its description best) and
a penalty when it is for another; the customer's language and each fact filled in break ties.
Templates whose facts are missing (no tracking link yet...) are not offered; shortcuts are, with
the Kustomer placeholders we know (`{{customer.firstName}}`...) filled and the others taken out.

The texts are the store's own, with facts filled in from the order data, so they are grounded by
construction and not checked again.
"""

import functools
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from .facts import AGENT_PLACEHOLDER, Facts
from .language import STOPWORDS, detect_language

SHORTCUT = "shortcut"
TEMPLATE = "template"
GENERAL_INTENT = "_general"

INTENT_BONUS = 0.6
# A shortcut has no intent of its own: the one whose description it matches best, if clearly.
SHORTCUT_INTENT_BONUS = 0.4
SHORTCUT_INTENT_MIN_SIMILARITY = 0.2
SHORTCUT_INTENT_MARGIN = 0.05
INTENT_WORDS_WEIGHT = 0.8
OTHER_INTENT_PENALTY = 0.3
LANGUAGE_BONUS = 0.15
OTHER_LANGUAGE_PENALTY = 0.3
FACT_BONUS = 0.04
MIN_RELEVANCE = 0.12
# A draft far less relevant than the best one is noise beside it: fewer drafts read better.
RELATIVE_RELEVANCE = 0.4
DUPLICATE_SIMILARITY = 0.85

# Placeholders a draft can do without: the greeting loses the name, the card fills the agent in.
SOFT_PLACEHOLDERS = {"customer_first_name", "customer_name", "agent_first_name"}

_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")
_KUSTOMER_PLACEHOLDER = re.compile(r"\{\{\s*([\w.]+)\s*\}\}")
_KUSTOMER_NAMES = {
    "customer.firstname": "customer_first_name",
    "customer.name": "customer_name",
    "customer.displayname": "customer_name",
    "customer.email": "customer_email",
    "org.name": "store_name",
    "company.name": "store_name",
}
_AGENT_NAMES = {"user.firstname", "user.name", "user.displayname", "agent.firstname"}

_STATUS_WORDS = {
    "shipped": {"es": "enviado", "fr": "expédiée", "de": "verschickt"},
    "delivered": {"es": "entregado", "fr": "livrée", "de": "zugestellt"},
    "cancelled": {"es": "cancelado", "fr": "annulée", "de": "storniert"},
    "being prepared": {"es": "en preparación", "fr": "en préparation", "de": "in Bearbeitung"},
}
_MONTH_NAMES = {
    "en": "January February March April May June July August September October November December",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre "
    "diciembre",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
}


@dataclass(frozen=True)
class Candidate:
    source: str  # SHORTCUT or TEMPLATE
    name: str
    text: str
    intent: str = ""  # templates only
    language: str = ""  # "" = tell from the text


@dataclass(frozen=True)
class Suggestion:
    source: str
    name: str
    text: str
    language: str
    score: float


def format_date(value: date, language: str) -> str:
    month = _MONTH_NAMES.get(language, _MONTH_NAMES["en"]).split()[value.month - 1]
    if language == "es":
        return f"{value.day} de {month} de {value.year}"
    if language == "fr":
        return f"{value.day} {month} {value.year}"
    if language == "de":
        return f"{value.day}. {month} {value.year}"
    return f"{month} {value.day}, {value.year}"


def placeholder_values(facts: Facts, *, message: str, language: str) -> dict[str, str]:
    """What each placeholder becomes for this customer and message (missing facts are absent)."""
    values = {
        "customer_first_name": facts.customer_first_name,
        "customer_name": facts.customer_name,
        "customer_email": facts.customer_email,
    }
    order = facts.relevant_order(message)
    if order is not None:
        status = order.status_sentence
        values.update(
            order_number=order.number,
            order_status=_STATUS_WORDS.get(status, {}).get(language, status),
            store_name=order.store,
            items=", ".join(
                f"{item.quantity} \N{MULTIPLICATION SIGN} {item.title}"
                if item.quantity > 1
                else item.title
                for item in order.items
            ),
        )
        if order.placed_on:
            values["order_date"] = format_date(order.placed_on, language)
        if order.total:
            values["order_total"] = order.total.display()
        if order.refunded and order.refunded.amount > 0:
            values["refund_amount"] = order.refunded.display()
        shipment = order.tracking
        if shipment is not None:
            values.update(
                carrier=shipment.carrier,
                tracking_number=shipment.tracking_number,
                tracking_url=shipment.tracking_url or order.status_url,
            )
    for policy in facts.policies:
        values[f"policy_{policy.key}"] = policy.text
    return {name: value for name, value in values.items() if value}


_GAP = "\x00"  # where a placeholder was taken out


def _tidy(text: str) -> str:
    """Mends what a placeholder taken out leaves behind ("Hi ," → "Hi,"), and nothing else (a
    French " ?" stays)."""
    text = re.sub(rf"[ \t]*{_GAP}(?=[ \t]*[,.:;!?\n]|$)", "", text)
    text = re.sub(rf"{_GAP}[ \t]*", "", text)
    return text.strip()


def fill_placeholders(text: str, values: Mapping[str, str]) -> tuple[str | None, int]:
    """`text` with its placeholders filled, and how many facts went in.

    None when a placeholder other than a soft one has no value: the draft would have a hole.
    Kustomer's `{{customer.firstName}}` style is understood; unknown Kustomer placeholders are
    taken out (Kustomer would have filled them from data we do not have).
    """
    missing = False
    filled = 0

    def kustomer(match: re.Match) -> str:
        name = match.group(1).lower()
        if name in _AGENT_NAMES:
            return AGENT_PLACEHOLDER
        return "{" + _KUSTOMER_NAMES[name] + "}" if name in _KUSTOMER_NAMES else _GAP

    def ours(match: re.Match) -> str:
        nonlocal missing, filled
        name = match.group(1)
        if name == "agent_first_name":
            return match.group(0)
        value = values.get(name, "")
        if value:
            filled += name not in SOFT_PLACEHOLDERS
            return value
        if name not in SOFT_PLACEHOLDERS:
            missing = True
        return _GAP

    text = _KUSTOMER_PLACEHOLDER.sub(kustomer, text)
    text = _PLACEHOLDER.sub(ours, text)
    return (None, 0) if missing else (_tidy(text), filled)


# --- similarity ---------------------------------------------------------------------------------

_TOKEN = re.compile(r"[^\W\d_]{2,}", re.UNICODE)
_ALL_STOPWORDS = set().union(*STOPWORDS.values()) - {"order", "refund", "pedido", "commande"}


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def tokens(text: str) -> tuple[str, ...]:
    """The words that carry meaning, lower-cased and roughly stemmed."""
    return _tokens(text or "")


@functools.lru_cache(maxsize=4096)
def _tokens(text: str) -> tuple[str, ...]:
    # Cached: the same templates and shortcuts are tokenized for every message.
    text = _KUSTOMER_PLACEHOLDER.sub(" ", _PLACEHOLDER.sub(" ", text)).lower()
    return tuple(_stem(word) for word in _TOKEN.findall(text) if word not in _ALL_STOPWORDS)


class TfIdf:
    """TF-IDF vectors over a small corpus (the candidates and the intents' descriptions)."""

    def __init__(self, documents: Sequence[Sequence[str]]) -> None:
        count = len(documents)
        frequency = Counter(word for document in documents for word in set(document))
        self.idf = {
            word: math.log((1 + count) / (1 + seen)) + 1 for word, seen in frequency.items()
        }

    def vector(self, words: Sequence[str]) -> dict[str, float]:
        counts = Counter(words)
        vector = {word: count * self.idf.get(word, 1.0) for word, count in counts.items()}
        norm = math.sqrt(sum(value * value for value in vector.values())) or 1.0
        return {word: value / norm for word, value in vector.items()}


def cosine(left: Mapping[str, float], right: Mapping[str, float]) -> float:
    if len(left) > len(right):
        left, right = right, left
    return sum(value * right.get(word, 0.0) for word, value in left.items())


# --- ranking ------------------------------------------------------------------------------------


def _likely_intent(vector: Mapping[str, float], catalog: Mapping[str, dict[str, float]]) -> str:
    """The intent whose words a shortcut matches clearly best, or ""."""
    ranked = sorted(
        ((cosine(vector, words), name) for name, words in catalog.items()), reverse=True
    )
    if not ranked or ranked[0][0] < SHORTCUT_INTENT_MIN_SIMILARITY:
        return ""
    if len(ranked) > 1 and ranked[0][0] - ranked[1][0] < SHORTCUT_INTENT_MARGIN:
        return ""
    return ranked[0][1]


@dataclass(frozen=True)
class _Corpus:
    """What does not depend on the message: word weights, each candidate's vector, language and
    intent (a shortcut's from the catalog). Kept for the next message with the same candidates."""

    model: TfIdf
    vectors: tuple[dict[str, float], ...]
    intents: tuple[str, ...]


@functools.lru_cache(maxsize=16)
def _corpus(candidates: tuple[Candidate, ...], catalog: tuple[tuple[str, str], ...]) -> _Corpus:
    words = [tokens(f"{candidate.name} {candidate.text}") for candidate in candidates]
    catalog_words = {name: tokens(text) for name, text in catalog}
    model = TfIdf([*words, *catalog_words.values()])
    vectors = tuple(model.vector(item) for item in words)
    catalog_vectors = {name: model.vector(item) for name, item in catalog_words.items()}
    intents = tuple(
        candidate.intent
        if candidate.source == TEMPLATE
        else _likely_intent(vector, catalog_vectors)
        for candidate, vector in zip(candidates, vectors, strict=True)
    )
    return _Corpus(model, vectors, intents)


@dataclass(frozen=True)
class _Scored:
    score: float  # what orders the drafts
    lexical: float  # fit by words alone (message and intent words)
    on_intent: bool  # written for (a template) or matched to (a shortcut) the predicted intent
    candidate: Candidate
    text: str
    language: str
    vector: dict[str, float]


def rank(
    *,
    message: str,
    intent: str,
    intent_words: str,
    candidates: Sequence[Candidate],
    values: Mapping[str, str],
    language: str,
    limit: int,
    intent_catalog: Mapping[str, str] | None = None,
) -> list[Suggestion]:
    """The best `limit` drafts for the message, best first; never empty when a `_general`
    template exists among the candidates.

    `intent_catalog` (every intent's name and description) lets shortcuts, which carry no
    intent, be matched to one as templates are.
    """
    candidates = tuple(candidates)
    corpus = _corpus(candidates, tuple(sorted((intent_catalog or {}).items())))
    message_vector = corpus.model.vector(tokens(message))
    intent_vector = corpus.model.vector(tokens(intent_words or intent.replace("_", " ")))

    relevant: list[_Scored] = []
    general: list[_Scored] = []
    for index, candidate in enumerate(candidates):
        lexical = cosine(message_vector, corpus.vectors[index])
        lexical += INTENT_WORDS_WEIGHT * cosine(intent_vector, corpus.vectors[index])
        candidate_intent = corpus.intents[index]
        is_general = candidate.source == TEMPLATE and candidate_intent == GENERAL_INTENT
        on_intent = bool(intent) and candidate_intent == intent
        relevance = lexical
        if on_intent:
            relevance += INTENT_BONUS if candidate.source == TEMPLATE else SHORTCUT_INTENT_BONUS
        elif intent and candidate_intent not in ("", GENERAL_INTENT):
            relevance -= OTHER_INTENT_PENALTY
        if not is_general and relevance < MIN_RELEVANCE:
            continue  # not worth filling in
        text, facts_filled = fill_placeholders(candidate.text, values)
        if text is None:
            continue
        # A candidate without a language ("") is told by its text, once filled in.
        candidate_language = candidate.language or detect_language(text, default="en")
        # Language and facts break ties between relevant drafts; they make none relevant.
        score = relevance + FACT_BONUS * facts_filled
        score += LANGUAGE_BONUS if candidate_language == language else -OTHER_LANGUAGE_PENALTY
        scored = _Scored(
            score,
            lexical,
            on_intent,
            candidate,
            text,
            candidate_language,
            corpus.vectors[index],
        )
        (general if is_general else relevant).append(scored)
    # Compared on words alone, since the intent bonus would put every shortcut far behind.
    best = max((item.lexical for item in relevant if not item.on_intent), default=0.0)
    relevant = [
        item for item in relevant if item.on_intent or item.lexical >= RELATIVE_RELEVANCE * best
    ]

    chosen: list[_Scored] = []
    seen_templates: set[tuple[str, str]] = set()
    for item in sorted(relevant, key=lambda item: item.score, reverse=True):
        if item.candidate.source == TEMPLATE:
            # The same template in another language is the same draft.
            key = (item.candidate.intent, item.candidate.name)
            if key in seen_templates:
                continue
            seen_templates.add(key)
        if any(cosine(item.vector, other.vector) > DUPLICATE_SIMILARITY for other in chosen):
            continue
        chosen.append(item)
        if len(chosen) == limit:
            break
    if not chosen and general:
        chosen.append(max(general, key=lambda item: item.score))
    return [
        Suggestion(
            item.candidate.source,
            item.candidate.name,
            item.text,
            item.language,
            round(item.score, 4),
        )
        for item in chosen
    ]
