"""callscope.qa: Quality assurance of calls: reviewers' scorecards."""
