"""The business-case rules: they run only with a ``business_case:`` section, and get it.

A plain graph stays a plain graph; the one rule here that runs without a case warns
that its node keys do nothing there.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator

from ..business import (
    CATEGORIES,
    MAX_HORIZON,
    PHASES,
    PURPOSES,
    RATE_RANGE,
    RISK_TYPES,
    YEAR_RANGE,
    BusinessCase,
)
from ..errors import Diagnostic, did_you_mean
from ..expr import Formula
from ..model import Node
from .context import Context
from .registry import case_rule, rule


def _ticked(words: Iterable[str]) -> str:
    """Names as Markdown code, for a meaning in the table of codes: `a`, `b`, `c`."""
    return ", ".join(f"`{word}`" for word in words)


def _suggest(word: str, choices: Iterable[str]) -> str:
    """``did you mean 'x'?`` or the list of choices."""
    choices = list(choices)
    return did_you_mean(word, choices, "use one of " + ", ".join(choices))


def _main_nodes(ctx: Context) -> Iterator[Node]:
    return (node for node in ctx.model if node.kind == "main")


@case_rule("no-purpose", "warning", "the business case names no primary purpose")
@case_rule(
    "unknown-purpose",
    "error",
    "a purpose of the case, a secondary purpose or a non-economic gain's purpose is not one "
    f"of {_ticked(PURPOSES)}",
)
@case_rule(
    "secondary-purpose", "error", "a secondary purpose repeats the primary or is listed twice"
)
def _case_purposes(ctx: Context, case: BusinessCase) -> Iterator[Diagnostic]:
    """One primary purpose of PURPOSES; secondary ones valid, each once, not the primary."""
    if case.purpose is None:
        yield ctx.warning(
            "no-purpose",
            "the business case names no primary purpose; add 'purpose:' under "
            f"'business_case:' ({', '.join(PURPOSES)})",
            line=case.line,
        )
    named = [
        ("'purpose'", case.purpose, case.line_of("purpose")),
        *(
            ("'secondary_purposes'", p, case.line_of("secondary_purposes"))
            for p in case.secondary_purposes
        ),
        *(
            (f"the non-economic gain '{g.name}'", g.purpose, g.line)
            for g in case.non_economic_gains
        ),
    ]
    for where, purpose, line in named:
        if purpose is not None and purpose not in PURPOSES:
            yield ctx.error(
                "unknown-purpose",
                f"{where} names the purpose '{purpose}', which is not a purpose of the "
                f"model; {_suggest(purpose, PURPOSES)}",
                line=line,
            )
    seen = {case.purpose}
    for purpose in case.secondary_purposes:
        if purpose in seen:
            what = "the primary purpose" if purpose == case.purpose else "listed twice"
            yield ctx.error(
                "secondary-purpose",
                f"the secondary purpose '{purpose}' is {what}; a business case has one "
                "primary purpose and other, different secondary ones: remove it from "
                "'secondary_purposes'",
                line=case.line_of("secondary_purposes"),
            )
        seen.add(purpose)


@case_rule(
    "off-purpose",
    "warning",
    "a main node or non-economic gain serves a purpose the case names neither as primary nor "
    "as secondary",
)
def _off_purposes(ctx: Context, case: BusinessCase) -> Iterator[Diagnostic]:
    """Main nodes and non-economic gains serve the case's primary or a secondary purpose."""
    if case.purpose not in PURPOSES:
        return  # said once by ``no-purpose`` or ``unknown-purpose``
    named = {case.purpose, *case.secondary_purposes}
    fix = "add it to 'secondary_purposes' or correct the purpose"
    for node in _main_nodes(ctx):
        for purpose in node.purpose:
            if purpose not in named:
                yield ctx.warning(
                    "off-purpose",
                    f"main node '{node.id}' serves '{purpose}', which is neither the business "
                    f"case's primary nor a secondary purpose; {fix}",
                    node,
                    "purpose",
                )
    for gain in case.non_economic_gains:
        if gain.purpose in PURPOSES and gain.purpose not in named:
            yield ctx.warning(
                "off-purpose",
                f"the non-economic gain '{gain.name}' serves '{gain.purpose}', which is "
                f"neither the business case's primary nor a secondary purpose; {fix}",
                line=gain.line,
            )


@case_rule(
    "case-years",
    "error",
    f"`start_year` or `end_year` is missing or not in {YEAR_RANGE[0]}..{YEAR_RANGE[1]}, the "
    f"case ends before it starts, or it counts more than {MAX_HORIZON} years",
)
def _case_years(ctx: Context, case: BusinessCase) -> Iterator[Diagnostic]:
    """``start_year`` and ``end_year``: given, in 1..9999, in order, MAX_HORIZON years at most."""
    first, last = YEAR_RANGE
    wrong = False
    for key in ("start_year", "end_year"):
        year = getattr(case, key)
        if year is None:
            wrong = True
            yield ctx.error(
                "case-years",
                f"the business case has no '{key}'; give the first and last year counted, "
                "e.g. 'start_year: 2025' and 'end_year: 2030'",
                line=case.line,
            )
        elif not first <= year <= last:
            wrong = True
            yield ctx.error(
                "case-years",
                f"{key} {year} is not a calendar year between {first} and {last}; "
                "give the year in full, e.g. 2025",
                line=case.line_of(key),
            )
    if not wrong and case.start_year is not None and case.end_year is not None:
        if case.start_year > case.end_year:
            yield ctx.error(
                "case-years",
                f"the business case ends ({case.end_year}) before it starts "
                f"({case.start_year}); swap 'start_year' and 'end_year'",
                line=case.line_of("end_year"),
            )
        elif case.end_year - case.start_year >= MAX_HORIZON:
            yield ctx.error(
                "case-years",
                f"the business case counts {case.end_year - case.start_year + 1:,} years "
                f"({case.start_year} to {case.end_year}); it may count at most {MAX_HORIZON} "
                "years: shorten the horizon, and count what lasts beyond it as a residual value",
                line=case.line_of("end_year"),
            )


_PERCENT_LIKE_RATE = 0.25


def _rate_error(key: str, rate: float) -> str | None:
    """Why a yearly rate (one of _RATE_KEYS) is outside RATE_RANGE, or None."""
    lowest, highest = RATE_RANGE
    if rate < lowest:
        return (
            f"{key} {rate:g} is below {lowest:g} ({lowest * 100:g} % a year), which "
            "discounts nothing sensibly; give the yearly rate as a fraction, e.g. 0.05 for 5 %"
        )
    if rate > highest:
        return f"{key} {rate:g} is above {highest:g} ({highest * 100:g} % a year); " + _in_percent(
            rate
        )
    return None


def _in_percent(rate: float) -> str:
    """The advice for a rate that looks written in percent."""
    return f"rates are fractions (0.05 is 5 %): if you meant {rate:g} %, write {rate / 100:g}"


_RATE_KEYS = ("discount_rate", "finance_rate", "reinvestment_rate")


@case_rule(
    "discount-rate",
    "error",
    f"a yearly rate ({_ticked(_RATE_KEYS)}) is below {RATE_RANGE[0]:g} or above {RATE_RANGE[1]:g}",
)
@case_rule(
    "discount-percent",
    "warning",
    f"a rate above {_PERCENT_LIKE_RATE:g}: probably written in percent (rates are fractions)",
)
def _discount_rate(ctx: Context, case: BusinessCase) -> Iterator[Diagnostic]:
    """A yearly rate (discount, and the MIRR's finance and reinvestment rates) is a
    fraction within RATE_RANGE; one above 0.25 is probably in percent."""
    for key in _RATE_KEYS:
        rate = getattr(case, key)
        if rate is None:
            continue
        line = case.line_of(key)
        error = _rate_error(key, rate)
        if error is not None:
            yield ctx.error("discount-rate", error, line=line)
        elif rate > _PERCENT_LIKE_RATE:
            yield ctx.warning(
                "discount-percent",
                f"{key} {rate:g} means {rate * 100:g} % a year; " + _in_percent(rate),
                line=line,
            )


@case_rule(
    "no-side",
    "error",
    "a main node has no `side` (cost, gain, operating), so the business case does not count it",
)
def _sides(ctx: Context, case: BusinessCase) -> Iterator[Diagnostic]:
    """Every main node is a cost, a gain or an operating cost."""
    for node in _main_nodes(ctx):
        if node.side is None:
            yield ctx.error(
                "no-side",
                f"main node '{node.id}' has no 'side', so the business case does not count "
                "it; add 'side: cost', 'side: gain' or 'side: operating'",
                node,
            )


@case_rule(
    "situation-side",
    "warning",
    "a cost or gain main node depends on a `situation` node, so only its with-project value "
    "counts (make it `side: operating` to count the difference)",
)
def _situation_sides(ctx: Context, case: BusinessCase) -> Iterator[Diagnostic]:
    """A cost or gain that differs without and with the project counts with its with-value."""
    depends = ctx.model.situation_dependents()
    for node in _main_nodes(ctx):
        if node.side in ("cost", "gain") and node.id in depends:
            yield ctx.warning(
                "situation-side",
                f"'{node.id}' is a {node.side} that depends on a 'situation' node; only its "
                "value with the project counts. Make it 'side: operating' to count the "
                "difference between the situations",
                node,
                "side",
            )


@case_rule("unknown-category", "error", f"a `category` that is not one of {_ticked(CATEGORIES)}")
@case_rule("no-category", "warning", "a main node with `side: cost` has no `category`")
def _categories(ctx: Context, case: BusinessCase) -> Iterator[Diagnostic]:
    """Categories are known; a cost carries one."""
    for node in ctx.model:
        if node.category is not None and node.category not in CATEGORIES:
            yield ctx.error(
                "unknown-category",
                f"'{node.id}' has the unknown category '{node.category}'; "
                f"{_suggest(node.category, CATEGORIES)}",
                node,
                "category",
            )
        elif node.kind == "main" and node.side == "cost" and node.category is None:
            yield ctx.warning(
                "no-category",
                f"cost '{node.id}' has no 'category', so it is counted under '(no category)'; "
                "add one of " + ", ".join(CATEGORIES),
                node,
            )


_PERIOD_KEYS = "'year', 'years' or 'phase'"


@case_rule("no-period", "error", "a main node has none of `year`, `years`, `phase`")
@case_rule(
    "period-conflict",
    "error",
    "a main node has both `year` and `years`, or lists a year twice in `years`",
)
def _periods(ctx: Context, case: BusinessCase) -> Iterator[Diagnostic]:
    """A main node says when its amount falls: one year, a list of years, or one phase."""
    for node in _main_nodes(ctx):
        if node.year is None and not node.years and node.phase is None:
            yield ctx.error(
                "no-period",
                f"main node '{node.id}' gives no {_PERIOD_KEYS}, so its amount falls in no "
                "year; add one (e.g. 'year: 2026', 'years: [2026, 2027]' or "
                "'phase: implementation')",
                node,
            )
        if node.year is not None and node.years:
            yield ctx.error(
                "period-conflict",
                f"main node '{node.id}' has both 'year' and 'years'; keep 'year' for an "
                "amount that falls once, or 'years' for one that counts in each listed year",
                node,
                "years",
            )
        repeated = sorted({y for y in node.years if node.years.count(y) > 1})
        if repeated:
            yield ctx.error(
                "period-conflict",
                f"main node '{node.id}' lists the year(s) {_join(repeated)} more than once in "
                "'years'; list each year once and give the shares in 'profile'",
                node,
                "years",
            )


@case_rule("profile", "error", "a `profile` without `years`, or not one share per year")
def _profiles(ctx: Context, case: BusinessCase) -> Iterator[Diagnostic]:
    """A ``profile`` goes with ``years``, one share per year."""
    for node in _main_nodes(ctx):
        if node.profile is None:
            continue
        if not node.years:
            yield ctx.error(
                "profile",
                f"main node '{node.id}' has a 'profile' but no 'years' to spread it over; "
                "add 'years:' with one year per share, or remove 'profile'",
                node,
                "profile",
            )
        elif len(node.profile) != len(node.years):
            yield ctx.error(
                "profile",
                f"main node '{node.id}' has {len(node.profile)} profile share(s) for "
                f"{len(node.years)} year(s); give one share for each year in 'years'",
                node,
                "profile",
            )


@case_rule(
    "year-range",
    "error",
    "a main node's year or a phase lies outside `start_year`..`end_year`",
)
@case_rule(
    "phase-years",
    "error",
    "a main node with a `phase` falls in a year the phase's months do not touch (it would "
    "cover more than one phase)",
)
def _node_years(ctx: Context, case: BusinessCase) -> Iterator[Diagnostic]:
    """A main node's years lie inside the horizon and, with a phase, inside that phase.

    The guide: one main assumption covers at most one phase or one year, or a list
    of years of the same amount. So a node with a phase and ``year``/``years`` covers
    that one phase: each of its years must hold some of the phase's months.
    """
    horizon = case.years
    for node in _main_nodes(ctx):
        listed = [node.year] if node.year is not None else list(node.years)
        outside = [y for y in listed if horizon and y not in horizon]
        key = "year" if node.year is not None else "years"
        if outside:
            yield ctx.error(
                "year-range",
                f"main node '{node.id}' falls in {_join(outside)}, outside the business case's "
                f"years {horizon.start}-{horizon.stop - 1}; correct the year(s) or extend "
                "'start_year'/'end_year'",
                node,
                key,
            )
        phase = case.phases.get(node.phase or "")
        if phase is None or phase.start > phase.end:
            continue
        beside = [y for y in listed if phase.months_in(y) == 0]
        if beside:
            yield ctx.error(
                "phase-years",
                f"main node '{node.id}' is in phase '{phase.name}' ({phase.start} to "
                f"{phase.end}) but falls in {_join(beside)}, outside that phase; one main "
                "assumption covers one phase or one year (or years of the same amount): "
                "split it into one node per phase, or drop 'phase'",
                node,
                key,
            )


@case_rule(
    "unknown-phase",
    "error",
    f"a node's `phase` or the case's `current_phase` is not one of {_ticked(PHASES)}",
)
@case_rule("undefined-phase", "error", "a main node's phase is not defined under `phases:`")
def _phase_names(ctx: Context, case: BusinessCase) -> Iterator[Diagnostic]:
    """Phase names are known, and a main node's phase is defined under ``phases:``."""
    if case.current_phase is not None and case.current_phase not in PHASES:
        yield ctx.error(
            "unknown-phase",
            f"'current_phase' is '{case.current_phase}', which is not a phase; "
            f"{_suggest(case.current_phase, PHASES)}",
            line=case.line_of("current_phase"),
        )
    for node in ctx.model:
        if node.phase is None:
            continue
        if node.phase not in PHASES:
            yield ctx.error(
                "unknown-phase",
                f"'{node.id}' has the unknown phase '{node.phase}'; {_suggest(node.phase, PHASES)}",
                node,
                "phase",
            )
        elif node.kind == "main" and node.phase not in case.phases:
            yield ctx.error(
                "undefined-phase",
                f"main node '{node.id}' is in phase '{node.phase}', which 'phases:' does not "
                f"define; add '{node.phase}: [YYYY-MM, YYYY-MM]' under 'business_case: "
                "phases:'",
                node,
                "phase",
            )


@case_rule("phase-dates", "error", "a phase ends before it starts")
@case_rule("year-range")
@case_rule("phase-order", "error", "phases do not start in the order of the phase names")
@case_rule("phase-overlap", "error", "a phase starts before the one before it ends")
def _phase_spans(ctx: Context, case: BusinessCase) -> Iterator[Diagnostic]:
    """Phases start before they end, follow each other in order without overlap, and lie
    inside the horizon."""
    horizon = case.years
    for phase in case.phases.values():
        if phase.start > phase.end:
            yield ctx.error(
                "phase-dates",
                f"phase '{phase.name}' ends ({phase.end}) before it starts ({phase.start}); "
                "give [first month, last month]",
                line=phase.line,
            )
        elif horizon and (phase.start.year < horizon.start or phase.end.year >= horizon.stop):
            yield ctx.error(
                "year-range",
                f"phase '{phase.name}' ({phase.start} to {phase.end}) is not inside the "
                f"business case's years {horizon.start}-{horizon.stop - 1}; correct the "
                "months or extend 'start_year'/'end_year'",
                line=phase.line,
            )
    ordered = sorted(case.phases.values(), key=lambda p: PHASES.index(p.name))
    for before, after in itertools.pairwise(ordered):
        if after.start < before.start:
            yield ctx.error(
                "phase-order",
                f"phase '{after.name}' starts ({after.start}) before phase '{before.name}' "
                f"({before.start}); phases follow each other in the order "
                f"{', '.join(PHASES)}: correct the months",
                line=after.line,
            )
        elif after.start <= before.end:
            yield ctx.error(
                "phase-overlap",
                f"phase '{after.name}' starts ({after.start}) before phase '{before.name}' "
                f"ends ({before.end}); a month belongs to one phase: let '{after.name}' start "
                "after it",
                line=after.line,
            )


_RISK_SCALE = range(1, 5)


@case_rule(
    "risk-id",
    "error",
    "a register id is 0 (reserved for general uncertainty), negative or repeated",
)
@case_rule(
    "risk-scale",
    "error",
    "a risk's probability or consequence is missing or not a whole number from 1 to 4",
)
@case_rule("risk-type", "error", f"a risk's type is missing or not one of {_ticked(RISK_TYPES)}")
def _risk_register(ctx: Context, case: BusinessCase) -> Iterator[Diagnostic]:
    """Risk ids are unique and positive (0 is general uncertainty); scales 1-4; known types."""
    seen: set[int] = set()
    for risk in case.risks:
        what = f"risk {risk.id} ('{risk.name}')"
        if risk.id <= 0:
            why = "is reserved for general uncertainty" if risk.id == 0 else "is negative"
            yield ctx.error(
                "risk-id",
                f"{what}: id {risk.id} {why}; number the register's risks 1, 2, 3, ...",
                line=risk.line,
            )
        elif risk.id in seen:
            yield ctx.error(
                "risk-id",
                f"{what}: the id {risk.id} is used twice in the register; give each risk "
                "its own id",
                line=risk.line,
            )
        seen.add(risk.id)
        for scale in ("probability", "consequence"):
            value = getattr(risk, scale)
            if value not in _RISK_SCALE:
                got = "but it is missing" if value is None else f"got {value}"
                yield ctx.error(
                    "risk-scale",
                    f"{what}: {scale} must be a whole number from 1 to 4, {got}",
                    line=risk.line,
                )
        if risk.type not in RISK_TYPES:
            given = f"type '{risk.type}' is not a risk type" if risk.type else "it has no type"
            yield ctx.error(
                "risk-type",
                f"{what}: {given}; {_suggest(risk.type, RISK_TYPES)}",
                line=risk.line,
            )


@case_rule(
    "node-risk",
    "error",
    "a node's `risk` has more than two or repeated entries, or names a risk that is not in "
    "the register (0, general uncertainty, is allowed)",
)
@case_rule("risk-target", "error", "`risk` on a formula node, which has no estimate of its own")
@case_rule("risk-constant", "warning", "`risk` on a constant, which has no uncertainty")
def _node_risks(ctx: Context, case: BusinessCase) -> Iterator[Diagnostic]:
    """A node's ``risk`` names one or two risks of the register, on a node with an estimate."""
    ids = {risk.id for risk in case.register}
    for node in ctx.model:
        if not node.risk:
            continue
        if len(node.risk) > 2 or len(set(node.risk)) != len(node.risk):
            yield ctx.error(
                "node-risk",
                f"'{node.id}' has risk {list(node.risk)}; give a primary risk and at most "
                "one, different, secondary risk: [primary] or [primary, secondary]",
                node,
                "risk",
            )
        unknown = [i for i in node.risk if i not in ids]
        if unknown:
            yield ctx.error(
                "node-risk",
                f"'{node.id}' is tied to risk {_join(unknown)}, which is not in the risk "
                "register; add it under 'business_case: risks:', or use 0 for general "
                "uncertainty",
                node,
                "risk",
            )
        if isinstance(node.body, Formula):
            yield ctx.error(
                "risk-target",
                f"'{node.id}' has a formula, so it has no estimate of its own to tie to a "
                "risk; put 'risk' on the uncertain inputs its formula uses",
                node,
                "risk",
            )
        elif node.kind == "constant":
            yield ctx.warning(
                "risk-constant",
                f"'{node.id}' is a constant: it has no uncertainty, so no risk amount to "
                "attribute; remove 'risk', or give it an estimate",
                node,
                "risk",
            )


_MAIN_ONLY_KEYS = ("side", "category", "phase", "year", "years", "profile")
_CASE_NODE_KEYS = ("category", "phase", "year", "years", "profile", "risk")


def _keys_used(node: Node, keys: Iterable[str]) -> list[str]:
    """Those of ``keys`` the node sets (not at their default)."""
    return [key for key in keys if getattr(node, key) not in (None, ())]


def _quoted(keys: Iterable[str]) -> str:
    return ", ".join(f"'{key}'" for key in keys)


@case_rule(
    "main-only-key", "warning", f"{_ticked(_MAIN_ONLY_KEYS)} on a node that is not a main node"
)
def _main_only_keys(ctx: Context, case: BusinessCase) -> Iterator[Diagnostic]:
    """Side, category, phase and years place a main node's amount; elsewhere they do nothing."""
    for node in ctx.model:
        used = _keys_used(node, _MAIN_ONLY_KEYS) if node.kind != "main" else []
        if used:
            yield ctx.warning(
                "main-only-key",
                f"only main nodes carry {_quoted(used)}; '{node.id}' is kind '{node.kind}', "
                "so the business case ignores them: remove them, or make it 'kind: main'",
                node,
                used[0],
            )


@case_rule("no-lift", "warning", "a non-economic gain's level is the same before and after")
def _non_economic_gains(ctx: Context, case: BusinessCase) -> Iterator[Diagnostic]:
    """A non-economic gain lifts a level: before and after differ."""
    for gain in case.non_economic_gains:
        if gain.lift == 0:
            yield ctx.warning(
                "no-lift",
                f"the non-economic gain '{gain.name}' has the same level before and after "
                f"({gain.before:g}), so there is no lift to price; correct 'before'/'after' "
                "or remove the gain",
                line=gain.line,
            )


@rule(
    "ignored-case-keys",
    "warning",
    f"a node uses business-case keys ({_ticked(_CASE_NODE_KEYS)}) but the model has no "
    "`business_case:` section",
)
def _ignored_case_keys(ctx: Context) -> Iterator[Diagnostic]:
    """Without a business case its node keys do nothing: one warning per node using them.

    ``side`` and ``situation`` are not among them: they mean something in a plain graph
    too (best and worst case, without and with the project).
    """
    if ctx.model.business_case is not None or ctx.model.unread_case:
        return
    for node in ctx.model:
        used = _keys_used(node, _CASE_NODE_KEYS)
        if used:
            yield ctx.warning(
                "ignored-case-keys",
                f"'{node.id}' has {_quoted(used)}: business-case keys are ignored without a "
                "'business_case:' section; add one, or remove the keys",
                node,
                used[0],
            )


def _join(values: Iterable[object]) -> str:
    return ", ".join(str(v) for v in values)
