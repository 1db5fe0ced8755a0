"""The prompt for reply drafts. Pure: text in, chat messages out.

The rules go in the system message; the case (intent, conversation, facts, policies, shortcuts)
in the user message, under fixed headings, with the facts as one JSON block so that nothing is
lost in prose (and so that the fake server can read them back). Texts arrive already masked. The
shortcuts shown are `facts.shortcuts`: what the model is shown is what its drafts may quote.
"""

import json
from dataclasses import dataclass

from .facts import AGENT_PLACEHOLDER, Facts
from .language import language_name

MAX_MESSAGE_CHARACTERS = 4000
MAX_HISTORY_CHARACTERS = 1000
MAX_SHORTCUT_CHARACTERS = 800


@dataclass(frozen=True)
class HistoryLine:
    author: str  # "customer" or "agent"
    text: str


@dataclass(frozen=True)
class PromptInput:
    message: str
    language: str
    facts: Facts
    max_drafts: int
    intent: str = ""
    intent_description: str = ""
    confidence: float | None = None
    history: tuple[HistoryLine, ...] = ()


SYSTEM = """\
You write reply drafts for a customer support agent of an online store. The agent reads them,
may edit them, and sends one to the customer.

Rules:
- Write {count} different drafts (fewer if you cannot write that many good ones) in {language} \
(language code "{code}"), the customer's language.
- State only what the FACTS, POLICIES and SHORTCUTS below say. Never write an order number, \
amount, date, tracking number, link, delay or percentage that is not written there. If the \
customer needs a fact that is missing, say that you will check and get back to them.
- Never promise what the policies do not allow (refunds, free returns, discounts, delivery \
dates). Do not say an action was already taken (a refund issued, an order cancelled, an address \
changed): offer to do it.
- Greet the customer by first name when it is known. End every draft with a short sign-off line \
and then a line holding exactly {agent}; the agent's name replaces it.
- Plain text, no Markdown, under 120 words per draft.
- Text in [square brackets] was removed for security. Never ask for card numbers or passwords.

Answer with JSON only, in this shape:
{{"drafts": [{{"text": "the draft", "language": "{code}"}}]}}"""


def _clip(text: str, limit: int) -> str:
    text = (text or "").strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def build_messages(prompt: PromptInput) -> list[dict[str, str]]:
    """The chat messages (system, user) that ask for `prompt.max_drafts` drafts."""
    system = SYSTEM.format(
        count=prompt.max_drafts,
        language=language_name(prompt.language),
        code=prompt.language,
        agent=AGENT_PLACEHOLDER,
    )
    if prompt.intent:
        confidence = (
            f" (confidence {prompt.confidence:.0%})" if prompt.confidence is not None else ""
        )
        intent = f"{prompt.intent}{confidence}"
        if prompt.intent_description:
            intent += f": {prompt.intent_description}"
    else:
        intent = "unknown (the intent model was not sure)"
    parts = [
        f"INTENT: {intent}",
        f"REPLY LANGUAGE: {prompt.language}",
        f"DRAFTS WANTED: {prompt.max_drafts}",
        "",
        "CONVERSATION (oldest first):",
    ]
    if prompt.history:
        parts += [
            f"[{line.author}] {_clip(line.text, MAX_HISTORY_CHARACTERS)}" for line in prompt.history
        ]
    else:
        parts.append("(this is the first message)")
    parts += [
        "",
        "NEW MESSAGE FROM THE CUSTOMER:",
        _clip(prompt.message, MAX_MESSAGE_CHARACTERS),
        "",
        "FACTS (JSON):",
        "```json",
        json.dumps(prompt.facts.to_prompt(), ensure_ascii=False, indent=1),
        "```",
        "",
        "POLICIES:",
    ]
    if prompt.facts.policies:
        parts += [f"- {policy.title}: {policy.text}" for policy in prompt.facts.policies]
    else:
        parts.append("(none written: promise nothing about refunds, returns or delivery times)")
    parts += ["", "SHORTCUTS (the store's saved replies for this kind of message):"]
    if prompt.facts.shortcuts:
        parts += [
            f"- {shortcut.name}: {_clip(shortcut.text, MAX_SHORTCUT_CHARACTERS)}"
            for shortcut in prompt.facts.shortcuts
        ]
    else:
        parts.append("(none)")
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": "\n".join(parts)},
    ]
