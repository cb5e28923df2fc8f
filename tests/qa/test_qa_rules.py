"""The QA rule language: the shipped scorecard parses; bad rules name the file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from callscope.qa.rules import (
    AllOf,
    Metric,
    QaRuleError,
    Said,
    load_scorecard,
    parse_scorecard,
    parse_scorecard_text,
)


def test_the_default_scorecard_has_the_promised_criteria() -> None:
    rules = load_scorecard()
    ids = [c.id for c in rules.criteria]
    assert {"greeting", "verification", "further_help", "no_long_silence", "caller_not_negative_at_end",
            "talk_ratio"} <= set(ids)
    greeting = rules.criteria[ids.index("greeting")].rule
    assert isinstance(greeting, AllOf) and all(isinstance(c, Said) and c.first_s == 15 for c in greeting.conditions)
    verification = rules.criteria[ids.index("verification")]
    assert isinstance(verification.rule, Said) and verification.rule.before is not None and verification.when
    assert rules.categories, "categories ship too"


def test_yaml_and_json_give_the_same_rules(tmp_path: Path) -> None:
    text = '{"id": "mini", "name": "Mini", "criteria": [{"id": "silence", "name": "No dead air", ' \
           '"rule": {"metric": {"name": "longest_silence_s", "max": 8}}}]}'
    (tmp_path / "mini.json").write_text(text)
    from_json = load_scorecard(tmp_path / "mini.json")
    assert from_json == parse_scorecard_text(text)
    assert from_json.criteria[0].rule == Metric("longest_silence_s", None, 8.0)


@pytest.mark.parametrize(("rule", "message"), [
    ({"said": {"by": "boss", "phrases": ["hi"]}}, "criteria[0].rule.said.by: 'boss' is not one of agent"),
    ({"said": {"by": "agent"}}, "criteria[0].rule.said: give phrases, keywords or regex"),
    ({"said": {"phrases": ["hi"], "within": {"first": -1}}}, "within.first: -1 is out of range"),
    ({"said": {"regex": "("}}, "said.regex: invalid regular expression"),
    ({"metric": {"name": "loudness", "max": 1}}, "metric.name: 'loudness' is not a metric"),
    ({"metric": {"name": "hold_time_s", "min": 9, "max": 1}}, "min 9.0 is above max 1.0"),
    ({"sentiment": {"at": "end", "min": -3}}, "sentiment runs from -1"),
    ({"emotion": {"is": ["furious"]}}, "'furious' is not one of neutral"),
    ({"said": {"phrases": ["a"]}, "metric": {"name": "hold_time_s", "max": 1}}, "exactly one kind"),
    ({"shouted": {}}, "unknown condition 'shouted'"),
])
def test_bad_rules_are_named(rule: dict, message: str) -> None:
    with pytest.raises(QaRuleError) as err:
        parse_scorecard({"id": "x", "criteria": [{"id": "c", "name": "C", "rule": rule}]}, "my.yaml")
    assert str(err.value).startswith("my.yaml: ")
    assert message in str(err.value)


def test_duplicate_ids_and_bad_files(tmp_path: Path) -> None:
    twice = {"criteria": [{"id": "a", "rule": {"metric": {"name": "hold_count", "max": 1}}}] * 2}
    with pytest.raises(QaRuleError, match="'a' is used twice"):
        parse_scorecard(twice)
    with pytest.raises(QaRuleError, match="non-empty list of criteria"):
        parse_scorecard({"id": "x"})
    bad = tmp_path / "bad.yaml"
    bad.write_text("criteria: [\n")
    with pytest.raises(QaRuleError, match="bad.yaml: not valid YAML"):
        load_scorecard(bad)
    with pytest.raises(QaRuleError, match="cannot read the scorecard"):
        load_scorecard(tmp_path / "missing.yaml")
