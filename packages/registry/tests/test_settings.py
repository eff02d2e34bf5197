"""Figure settings: FIGURES.md's defaults, and states into categories by the first rule."""

from __future__ import annotations

import msgspec
import pytest

from tally.registry import (
    Categories,
    Category,
    FigureSettings,
    MachineKind,
    StateModel,
    StateRule,
)

DEFAULTS = Categories(FigureSettings().state_rules)

# FIGURES.md's table, row by row, with states as the wire carries them.
CASES = [
    (("packml", "Execute", "production", None), Category.RUNNING),
    (("weihenstephan", "Operating", "production", None), Category.RUNNING),
    # Rule order: a running state in changeover mode is running, a stopped one changeover.
    (("packml", "Execute", "changeover", None), Category.RUNNING),
    (("packml", "Stopped", "changeover", None), Category.CHANGEOVER),
    (("packml", "Stopped", "cleaning", None), Category.CLEANING),
    (("packml", "Aborted", "maintenance", "equipment"), Category.MAINTENANCE),
    (("packml", "Suspended", "production", "tailback"), Category.BLOCKED),
    (("weihenstephan", "Tailback", "production", None), Category.BLOCKED),
    (("packml", "Suspended", "production", "lack"), Category.STARVED),
    (("packml", "Suspended", "production", None), Category.STARVED),
    (("packml", "Unsuspending", "production", None), Category.STARVED),
    (("weihenstephan", "Lack", "production", None), Category.STARVED),
    (("packml", "Held", "production", "external"), Category.EXTERNAL_FAILURE),
    # The wire's names have no spaces: case, spaces, _ and - are ignored when comparing.
    (("weihenstephan", "external_failure", "production", None), Category.EXTERNAL_FAILURE),
    (("weihenstephan", "ExternalFailure", "production", None), Category.EXTERNAL_FAILURE),
    (("packml", "Held", "production", "equipment"), Category.EQUIPMENT_FAILURE),
    (("packml", "Clearing", "production", None), Category.EQUIPMENT_FAILURE),
    (("weihenstephan", "Emergency-Stop", "production", None), Category.EQUIPMENT_FAILURE),
    (("packml", "Idle", "production", "break"), Category.NO_ORDER),
    (("packml", "Stopped", "production", "no_shift"), Category.NO_ORDER),
    (("packml", "Complete", "production", None), Category.NO_ORDER),
    (("weihenstephan", "Prepared", "production", None), Category.NO_ORDER),
    # A PackML name under another model is not that model's state.
    (("weihenstephan", "Execute", "production", None), Category.UNKNOWN),
    (("vendor", "RUN_AUTO", "production", None), Category.UNKNOWN),
]


@pytest.mark.parametrize(("state", "category"), CASES)
def test_the_default_rules_are_the_table_of_figures(
    state: tuple[str, str, str, str | None], category: Category
) -> None:
    assert DEFAULTS.of(*state) is category


def test_a_vendor_rule_goes_before_the_defaults() -> None:
    vendor = StateRule(category=Category.RUNNING, model=StateModel.VENDOR, names=("RUN_AUTO",))
    categories = Categories((vendor, *FigureSettings().state_rules))
    assert categories.of("vendor", "run-auto", "production", None) is Category.RUNNING
    assert categories.of("vendor", "RUN_MANUAL", "production", None) is Category.UNKNOWN


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"category": "running"}, "it would match every state"),
        ({"category": "no_data", "names": ["Gap"]}, "no data is a gap"),
        ({"category": "sleeping", "names": ["Idle"]}, "Invalid enum value 'sleeping'"),
        ({"category": "running", "mode": "turbo"}, "Invalid enum value 'turbo'"),
        ({"category": "running", "names": ["Run\u0000"]}, "`$.state_rules[0].names[0]`"),
    ],
)
def test_a_bad_rule_is_refused_naming_it(rule: dict[str, object], message: str) -> None:
    with pytest.raises(msgspec.ValidationError) as raised:
        msgspec.convert({"state_rules": [rule]}, FigureSettings)
    assert message in str(raised.value)


def test_settings_round_trip_with_defaults_for_what_is_missing() -> None:
    settings = msgspec.json.decode(b'{"micro_stop_seconds": 90}', type=FigureSettings)
    assert settings.micro_stop_seconds == 90
    assert settings.gap_seconds == 60
    assert settings.changeover_is_loss
    assert settings.cleaning_is_loss
    assert settings.pack_counter(MachineKind.SLICER) == "cycles"
    assert settings.pack_counter(MachineKind.CHECKWEIGHER) == "packs_total"
    assert msgspec.json.decode(msgspec.json.encode(settings), type=FigureSettings) == settings
    with pytest.raises(msgspec.ValidationError, match="unknown field `gap_s`"):
        msgspec.json.decode(b'{"gap_s": 30}', type=FigureSettings)
    with pytest.raises(msgspec.ValidationError, match=r"<= 3600 - at `\$.micro_stop_seconds`"):
        msgspec.json.decode(b'{"micro_stop_seconds": 7200}', type=FigureSettings)
