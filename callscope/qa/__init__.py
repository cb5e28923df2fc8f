"""callscope.qa: quality assurance of calls.

* :mod:`callscope.qa.scorecards`: reviewers' manual scorecards.
* :mod:`callscope.qa.rules`: the rule language (YAML/JSON) a QA lead writes for automatic
  scorecards, parsed and validated into :class:`~callscope.qa.rules.ScorecardRules`.
* :mod:`callscope.qa.evaluate`: runs those rules on one call and returns a
  :class:`~callscope.domain.QaResult` (pass/fail, score, evidence per criterion).
* :mod:`callscope.qa.store`: results, reviewer overrides and the active scorecard in the database.
"""
