"""Loan risk: the deterministic engine that decides, the scorecard it uses, and their documentation.

Public entry points (the servicer, CLI, evaluation and benchmark use these):

* :class:`server.risk.engine.RiskEngine` - ``from_files()``, ``assess()``, ``assess_batch()``;
* :mod:`server.risk.explanation` - ``explanation_facts()``, ``facts_payload()``,
  ``template_explanation()``, ``check_explanation()``;
* :func:`server.risk.model_card.build_model_card` and :class:`server.risk.drift.ScoreDriftMonitor`;
* :mod:`server.risk.mapping` - protobuf <-> domain;
* :class:`server.risk.settings.RiskSettings` - the ``risk`` configuration section;
* ``python -m server.risk.train`` - retrains the committed artefact.

docs/risk.md describes the data mapping, the rules and the measured figures.
"""
