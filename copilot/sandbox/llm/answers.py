"""What the fake model writes: reply drafts built from the facts it finds in the prompt.

It reads the prompt as a model would have to: the `REPLY LANGUAGE:` and `DRAFTS WANTED:` lines and
the JSON block under `FACTS (JSON):` (see copilot/replies/prompts.py). Any other prompt gets a
polite generic answer in the same JSON shape. Pure: no I/O.
"""

import json
import re
from datetime import date

INVENTED_ORDER_NUMBER = "#48213"
INVENTED_TRACKING_NUMBER = "1Z999AA19876543210"

_PHRASES = {
    "en": {
        "hello": "Hi {name},",
        "hello_anonymous": "Hi,",
        "status": "Your order {number} is {status}.",
        "shipped": "It shipped with {carrier} on {date}; you can follow it here: {url} "
        "(tracking number {tracking}).",
        "items": "It holds {items}.",
        "placed": "You placed order {number} on {date}, for a total of {total}.",
        "refunded": "{amount} of it has been refunded.",
        "no_order": "I couldn't find an order under this email address. Could you send me "
        "the order number?",
        "checking": "I'm looking into this now and will get back to you shortly.",
        "thanks": "Thanks for reaching out!",
        "invented": "I also see a second order, {number}, that is on its way.",
        "invented_shipped": "Your order {number} left our warehouse and is with the carrier, "
        "tracking number {tracking}.",
        "bye": "Best,",
        "statuses": {},
    },
    "es": {
        "hello": "Hola {name}:",
        "hello_anonymous": "Hola:",
        "status": "Tu pedido {number} está {status}.",
        "shipped": "Salió con {carrier} el {date}; puedes seguirlo aquí: {url} (número de "
        "seguimiento {tracking}).",
        "items": "Contiene {items}.",
        "placed": "Hiciste el pedido {number} el {date}, por un total de {total}.",
        "refunded": "Se han reembolsado {amount}.",
        "no_order": "No encuentro ningún pedido con este correo. ¿Me envías el número de pedido?",
        "checking": "Lo estoy revisando y te respondo en breve.",
        "thanks": "¡Gracias por escribirnos!",
        "invented": "También veo un segundo pedido, {number}, que está en camino.",
        "invented_shipped": "Tu pedido {number} salió del almacén, número de seguimiento "
        "{tracking}.",
        "bye": "Saludos,",
        "statuses": {
            "shipped": "enviado",
            "delivered": "entregado",
            "cancelled": "cancelado",
            "being prepared": "en preparación",
        },
    },
    "fr": {
        "hello": "Bonjour {name},",
        "hello_anonymous": "Bonjour,",
        "status": "Votre commande {number} est {status}.",
        "shipped": "Elle a été expédiée avec {carrier} le {date} ; suivez-la ici : {url} "
        "(numéro de suivi {tracking}).",
        "items": "Elle contient {items}.",
        "placed": "Vous avez passé la commande {number} le {date}, pour un total de {total}.",
        "refunded": "{amount} ont été remboursés.",
        "no_order": "Je ne trouve aucune commande avec cette adresse e-mail. Pouvez-vous "
        "m'envoyer le numéro de commande ?",
        "checking": "Je regarde cela tout de suite et je reviens vers vous très vite.",
        "thanks": "Merci pour votre message !",
        "invented": "Je vois aussi une deuxième commande, {number}, en cours de livraison.",
        "invented_shipped": "Votre commande {number} a quitté l'entrepôt, numéro de suivi "
        "{tracking}.",
        "bye": "Cordialement,",
        "statuses": {
            "shipped": "expédiée",
            "delivered": "livrée",
            "cancelled": "annulée",
            "being prepared": "en préparation",
        },
    },
    "de": {
        "hello": "Hallo {name},",
        "hello_anonymous": "Hallo,",
        "status": "Ihre Bestellung {number} ist {status}.",
        "shipped": "Sie wurde am {date} mit {carrier} verschickt; Sie können sie hier "
        "verfolgen: {url} (Sendungsnummer {tracking}).",
        "items": "Sie enthält {items}.",
        "placed": "Sie haben die Bestellung {number} am {date} aufgegeben, insgesamt {total}.",
        "refunded": "{amount} wurden erstattet.",
        "no_order": "Ich finde keine Bestellung zu dieser E-Mail-Adresse. Können Sie mir die "
        "Bestellnummer schicken?",
        "checking": "Ich sehe mir das gleich an und melde mich in Kürze.",
        "thanks": "Danke für Ihre Nachricht!",
        "invented": "Ich sehe auch eine zweite Bestellung, {number}, die unterwegs ist.",
        "invented_shipped": "Ihre Bestellung {number} hat das Lager verlassen, Sendungsnummer "
        "{tracking}.",
        "bye": "Viele Grüße",
        "statuses": {
            "shipped": "verschickt",
            "delivered": "zugestellt",
            "cancelled": "storniert",
            "being prepared": "in Bearbeitung",
        },
    },
}
_MONTHS = {
    "en": "January February March April May June July August September October November December",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre "
    "diciembre",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
}
_FACTS = re.compile(r"FACTS \(JSON\):\s*```json\s*(\{.*?\})\s*```", re.DOTALL)
_LANGUAGE = re.compile(r"^REPLY LANGUAGE:\s*([a-z]{2})\b", re.MULTILINE)
_WANTED = re.compile(r"^DRAFTS WANTED:\s*(\d+)", re.MULTILINE)


def _day(value: str | None, language: str) -> str:
    if not value:
        return ""
    day = date.fromisoformat(value)
    month = _MONTHS[language].split()[day.month - 1]
    return {
        "es": f"{day.day} de {month}",
        "fr": f"{day.day} {month}",
        "de": f"{day.day}. {month}",
    }.get(language, f"{month} {day.day}")


def read_prompt(prompt: str) -> tuple[str, int, dict | None]:
    """The language, number of drafts and facts a prompt asks about (facts None if absent)."""
    language_match = _LANGUAGE.search(prompt)
    language = language_match.group(1) if language_match else "en"
    wanted_match = _WANTED.search(prompt)
    wanted = int(wanted_match.group(1)) if wanted_match else 3
    facts_match = _FACTS.search(prompt)
    facts = None
    if facts_match:
        try:
            facts = json.loads(facts_match.group(1))
        except ValueError:
            facts = None
    return (language if language in _PHRASES else "en"), max(1, min(wanted, 5)), facts


def _sign(phrases: dict, body: list[str], name: str) -> str:
    hello = phrases["hello"].format(name=name) if name else phrases["hello_anonymous"]
    return f"{hello}\n\n{' '.join(part for part in body if part)}\n\n{phrases['bye']}\n" + (
        "{agent_first_name}"
    )


def drafts_for(prompt: str, *, invent: bool = False) -> list[dict]:
    """The drafts a careful model would write for `prompt`; with `invent`, the first two state
    an order (and a tracking number) the facts do not hold, as a careless model might."""
    language, wanted, facts = read_prompt(prompt)
    phrases = _PHRASES[language]
    facts = facts or {}
    name = ((facts.get("customer") or {}).get("first_name")) or ""
    orders = facts.get("orders") or []
    drafts: list[str] = []
    if orders:
        order = orders[0]
        status = phrases["statuses"].get(order.get("status"), order.get("status") or "")
        first = [phrases["status"].format(number=order["number"], status=status)]
        shipment = next(
            (item for item in order.get("shipments") or [] if item.get("tracking_number")), None
        )
        if shipment:
            first.append(
                phrases["shipped"].format(
                    carrier=shipment.get("carrier") or "",
                    date=_day(shipment.get("shipped_on"), language),
                    url=shipment.get("tracking_url") or order.get("order_status_url") or "",
                    tracking=shipment["tracking_number"],
                )
            )
        items = ", ".join(
            f"{item['quantity']} \N{MULTIPLICATION SIGN} {item['title']}"
            if item.get("quantity", 1) > 1
            else item["title"]
            for item in order.get("items") or []
        )
        second = [
            phrases["placed"].format(
                number=order["number"],
                date=_day(order.get("placed_on"), language),
                total=order.get("total") or "",
            )
        ]
        if items:
            second.append(phrases["items"].format(items=items))
        if re.search(r"[1-9]", order.get("refunded") or ""):
            second.append(phrases["refunded"].format(amount=order["refunded"]))
        second.append(phrases["checking"])
        if invent:
            drafts.append(
                _sign(
                    phrases,
                    [
                        phrases["invented_shipped"].format(
                            number=INVENTED_ORDER_NUMBER, tracking=INVENTED_TRACKING_NUMBER
                        )
                    ],
                    name,
                )
            )
            first.append(phrases["invented"].format(number=INVENTED_ORDER_NUMBER))
        drafts.append(_sign(phrases, [phrases["thanks"], *first], name))
        drafts.append(_sign(phrases, second, name))
    else:
        drafts.append(_sign(phrases, [phrases["thanks"], phrases["no_order"]], name))
        if invent:
            drafts.insert(
                0,
                _sign(
                    phrases,
                    [
                        phrases["invented_shipped"].format(
                            number=INVENTED_ORDER_NUMBER, tracking=INVENTED_TRACKING_NUMBER
                        )
                    ],
                    name,
                ),
            )
    drafts.append(_sign(phrases, [phrases["thanks"], phrases["checking"]], name))
    return [{"text": text, "language": language} for text in drafts[:wanted]]


MALFORMED = (
    "Sure! Here are three replies you could send:\n\n1. Hi there, thanks for reaching out, "
    "your order is on its way.\n2. Hello! I'm checking this for you now.\n3. Thanks for your "
    "patience, I'll get back to you shortly."
)


def count_tokens(text: str) -> int:
    """Roughly what OpenAI's tokenizers count for English: one token per 4 characters."""
    return max(1, (len(text) + 3) // 4) if text else 0
