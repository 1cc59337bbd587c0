"""Questionnaires and outcomes: instruments as data, scoring, risk, reliable change, outcomes."""
