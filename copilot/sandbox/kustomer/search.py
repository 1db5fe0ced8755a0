"""Kustomer's search (`POST /v1/customers/search`) for `queryContext: "conversation"`.

Despite its path the endpoint answers conversations when the query context says so. What the
fake checks, as Kustomer documents it:

- criteria are `{"<object>_<attribute>": {"<operator>": value}}` in an `and` (or `or`) array;
  attributes here: `conversation_created_at`, `conversation_updated_at` (operators `gte`, `gt`,
  `lte`, `lt`), `conversation_tags` and `conversation_status` (`equals`, `in`) and custom
  attributes `conversation_custom_<name>` (`equals`, `in`, `contains`);
- dates are a local `YYYY-MM-DD` (in `timeZone`, default GMT; `lte`/`gt` take the whole day) or
  a UTC ISO date-time;
- `page` and `pageSize` (at most 500) in the query string, `idsOnly=true` for bare ids; paging
  stops at page 100 (narrow the date window to read further);
- only conversations updated in the past two years are searchable;
- 100 searches a minute per API key, on top of the org's limit.

Anything else is refused with a 400 naming it, so a client that sends a misspelt criterion
finds out here rather than in production.
"""

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import connection
from django.db.models import Q

from .errors import ApiError, invalid

SEARCH_PAGE_SIZE_DEFAULT = 100
SEARCH_PAGE_SIZE_MAX = 500
SEARCH_PAGES_MAX = 100
SEARCHABLE_DAYS = 2 * 365
QUERY_CONTEXTS = ("conversation",)
ALLOWED_KEYS = {"queryContext", "and", "or", "sort", "timeZone"}

DATE_ATTRIBUTES = {
    "conversation_created_at": "created_at",
    "conversation_updated_at": "updated_at",
}
DATE_OPERATORS = ("gte", "gt", "lte", "lt")
CUSTOM_PREFIX = "conversation_custom_"
CUSTOM_NAME = re.compile(r"^[a-z][A-Za-z0-9]*(Num|At|Str|Txt|Bool|Url)$")
LOCAL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SORTABLE = {"conversation_created_at": "created_at", "conversation_updated_at": "updated_at"}


@dataclass(frozen=True)
class SearchQuery:
    condition: Q
    order_by: tuple[str, ...]


@dataclass(frozen=True)
class SearchParams:
    page: int
    page_size: int
    ids_only: bool


def _time_zone(body: dict[str, Any]) -> ZoneInfo:
    name = body.get("timeZone")
    if name is None:
        return ZoneInfo("UTC")
    if not isinstance(name, str):
        raise invalid(
            "timeZone must be a time zone name such as Europe/Paris", field_path="timeZone"
        )
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise invalid(f"timeZone {name} is not a known time zone", field_path="timeZone") from None


def _moment(value: Any, operator: str, zone: ZoneInfo, *, field_path: str) -> datetime:
    """A criterion's date as a UTC instant. A local day means its start for `gte`/`lt` and
    the start of the next day for `lte`/`gt` (compared strictly), so that the day is whole."""
    if not isinstance(value, str):
        raise invalid(f"{field_path} must be a date string", field_path=field_path)
    if LOCAL_DATE.match(value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise invalid(f"{value} is not a date", field_path=field_path) from None
        if operator in ("lte", "gt"):
            day += timedelta(days=1)
        return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise invalid(
            f"{value} is neither a YYYY-MM-DD date nor an ISO 8601 date-time",
            field_path=field_path,
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _date_condition(
    column: str, operators: dict[str, Any], zone: ZoneInfo, *, field_path: str
) -> Q:
    condition = Q()
    for operator, value in operators.items():
        if operator not in DATE_OPERATORS:
            raise invalid(
                f"{operator} is not an operator for dates (use gte, gt, lte or lt)",
                field_path=field_path,
            )
        moment = _moment(value, operator, zone, field_path=f"{field_path}/{operator}")
        local_day = isinstance(value, str) and bool(LOCAL_DATE.match(value))
        if operator == "lte" and local_day:
            lookup = "lt"  # before the start of the next day
        elif operator == "gt" and local_day:
            lookup = "gte"  # from the start of the next day
        else:
            lookup = operator
        condition &= Q(**{f"{column}__{lookup}": moment})
    return condition


def _string_values(operator: str, value: Any, *, field_path: str) -> list[str]:
    if operator == "in":
        if not isinstance(value, list) or not value:
            raise invalid(f"{field_path} must be a non-empty array", field_path=field_path)
        items = value
    else:
        items = [value]
    if not all(isinstance(item, str | int | float | bool) for item in items):
        raise invalid(f"{field_path} takes strings, numbers or booleans", field_path=field_path)
    return items


def _tags_condition(operators: dict[str, Any], *, field_path: str) -> Q:
    condition = Q()
    for operator, value in operators.items():
        if operator not in ("equals", "in"):
            raise invalid(
                f"{operator} is not an operator for tags (use equals or in)",
                field_path=field_path,
            )
        either = Q()
        for tag in _string_values(operator, value, field_path=f"{field_path}/{operator}"):
            either |= _has_tag(str(tag))
        condition &= either
    return condition


def _has_tag(tag: str) -> Q:
    # JSON containment is PostgreSQL's; SQLite (the demo's default) matches the quoted tag in
    # the stored JSON text instead, which is the same test for an array of strings.
    if connection.vendor == "postgresql":
        return Q(tags__contains=[tag])
    return Q(tags__icontains=json.dumps(tag))


def _status_condition(operators: dict[str, Any], *, field_path: str) -> Q:
    condition = Q()
    for operator, value in operators.items():
        if operator not in ("equals", "in"):
            raise invalid(f"{operator} is not an operator for status", field_path=field_path)
        values = _string_values(operator, value, field_path=f"{field_path}/{operator}")
        condition &= Q(status__in=values)
    return condition


def _custom_condition(name: str, operators: dict[str, Any], *, field_path: str) -> Q:
    if not CUSTOM_NAME.match(name):
        raise invalid(
            f"{name} is not a custom attribute name (camelCase ending in Num, At, Str, Txt, "
            "Bool or Url)",
            field_path=field_path,
        )
    condition = Q()
    for operator, value in operators.items():
        path = f"{field_path}/{operator}"
        if operator == "equals":
            condition &= Q(
                **{f"custom__{name}": _string_values(operator, value, field_path=path)[0]}
            )
        elif operator == "in":
            either = Q()
            for item in _string_values(operator, value, field_path=path):
                either |= Q(**{f"custom__{name}": item})
            condition &= either
        elif operator == "contains":
            if not isinstance(value, str):
                raise invalid(f"{path} must be a string", field_path=path)
            condition &= Q(**{f"custom__{name}__icontains": value})
        else:
            raise invalid(
                f"{operator} is not an operator for custom attributes (use equals, in or contains)",
                field_path=field_path,
            )
    return condition


def _criterion(item: Any, zone: ZoneInfo, *, field_path: str) -> Q:
    if not isinstance(item, dict) or len(item) != 1:
        raise invalid(
            'Each criterion is one {"<attribute>": {"<operator>": value}} object',
            field_path=field_path,
        )
    ((attribute, operators),) = item.items()
    path = f"{field_path}/{attribute}"
    if not isinstance(operators, dict) or not operators:
        raise invalid(f"{attribute} needs an operator object", field_path=path)
    if attribute in DATE_ATTRIBUTES:
        return _date_condition(DATE_ATTRIBUTES[attribute], operators, zone, field_path=path)
    if attribute == "conversation_tags":
        return _tags_condition(operators, field_path=path)
    if attribute == "conversation_status":
        return _status_condition(operators, field_path=path)
    if attribute.startswith(CUSTOM_PREFIX):
        return _custom_condition(attribute[len(CUSTOM_PREFIX) :], operators, field_path=path)
    raise invalid(f"{attribute} is not a searchable conversation attribute", field_path=path)


def _criteria(body: dict[str, Any], key: str, zone: ZoneInfo) -> list[Q]:
    items = body.get(key)
    if items is None:
        return []
    if not isinstance(items, list):
        raise invalid(f"{key} must be an array of criteria", field_path=key)
    return [_criterion(item, zone, field_path=f"{key}/{index}") for index, item in enumerate(items)]


def _order(body: dict[str, Any]) -> tuple[str, ...]:
    sort = body.get("sort")
    if sort is None:
        return ("-created_at", "-id")
    if not isinstance(sort, list):
        raise invalid("sort must be an array", field_path="sort")
    order: list[str] = []
    for index, item in enumerate(sort):
        if not isinstance(item, dict) or len(item) != 1:
            raise invalid('Each sort is one {"<attribute>": "asc"|"desc"}', field_path="sort")
        ((attribute, direction),) = item.items()
        if attribute not in SORTABLE or direction not in ("asc", "desc"):
            raise invalid(
                f"Cannot sort by {attribute} {direction}", field_path=f"sort/{index}/{attribute}"
            )
        order.append(("-" if direction == "desc" else "") + SORTABLE[attribute])
    descending = order[0].startswith("-") if order else True
    return (*order, "-id" if descending else "id")


def search_query(body: Any, *, now: datetime) -> SearchQuery:
    """The conversations a search body asks for, or a 400 naming the first fault."""
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object", pointer="/data")
    for name in body:
        if name not in ALLOWED_KEYS:
            raise invalid(f"{name} is not an allowed attribute", field_path=name)
    context = body.get("queryContext")
    if context not in QUERY_CONTEXTS:
        raise invalid(
            f"queryContext {context!r} is not supported here; use conversation",
            field_path="queryContext",
        )
    zone = _time_zone(body)
    condition = Q(updated_at__gte=now - timedelta(days=SEARCHABLE_DAYS))
    for item in _criteria(body, "and", zone):
        condition &= item
    alternatives = _criteria(body, "or", zone)
    if alternatives:
        either = Q()
        for item in alternatives:
            either |= item
        condition &= either
    return SearchQuery(condition=condition, order_by=_order(body))


def _query_int(query: Any, name: str, default: int) -> int:
    text = query.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise ApiError(400, f"{name} must be an integer", parameter=name) from None
    if value < 1:
        raise ApiError(400, f"{name} must be at least 1", parameter=name)
    return value


def search_params(query: Any) -> SearchParams:
    page_size = _query_int(query, "pageSize", SEARCH_PAGE_SIZE_DEFAULT)
    if page_size > SEARCH_PAGE_SIZE_MAX:
        raise ApiError(
            400, f"pageSize must be at most {SEARCH_PAGE_SIZE_MAX}", parameter="pageSize"
        )
    page = _query_int(query, "page", 1)
    if page > SEARCH_PAGES_MAX:
        raise ApiError(
            400,
            f"Search results can be paged up to page {SEARCH_PAGES_MAX}; narrow the search "
            "(e.g. a shorter date range) to reach the rest",
            parameter="page",
        )
    ids_only = (query.get("idsOnly") or "").lower() == "true"
    return SearchParams(page=page, page_size=page_size, ids_only=ids_only)
