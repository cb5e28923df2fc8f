"""Quality assurance: scorecards evaluated automatically on every analysed call.

* :mod:`callscope.qa.rules`: the rule language (YAML/JSON) a QA lead writes, parsed and
  validated into :class:`~callscope.qa.rules.ScorecardRules`.
* :mod:`callscope.qa.evaluate`: runs those rules on one call and returns a
  :class:`~callscope.qa.results.QaResult` (pass/fail, score, evidence per criterion).
* :mod:`callscope.qa.store`: results and reviewer overrides in the database.
"""
