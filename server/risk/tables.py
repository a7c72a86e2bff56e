"""Table definitions of the risk service (mirror ``risk_0001``), for queries in code.

``risk_assessments`` keeps every assessment (the full ``LoanAssessment`` sealed under the applicant's data
key; decision, score and versions in clear for search and drift), unique per ``request_id`` so a retried
item of a batch is answered from the stored result. ``risk_reviews`` is the manual-review queue of REFER
decisions; the officer's justification is sealed under the applicant's data key.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

assessments = sa.Table(
    "risk_assessments",
    metadata,
    sa.Column("assessment_id", sa.String(40), primary_key=True),
    sa.Column("request_id", sa.String(64), nullable=False, unique=True),
    sa.Column("input_digest", sa.String(64), nullable=False),
    sa.Column("application_id", sa.String(128), nullable=False),
    sa.Column("applicant_id", sa.String(128), nullable=False),
    sa.Column("recommendation", sa.String(16), nullable=False),
    sa.Column("risk_level", sa.String(16), nullable=False),
    sa.Column("score", sa.Integer, nullable=False),
    sa.Column("model_id", sa.String(200), nullable=False),
    sa.Column("rule_set_version", sa.String(100), nullable=False),
    sa.Column("explanation_source", sa.String(16), nullable=False),
    sa.Column("review_id", sa.String(40), nullable=True),
    sa.Column("created_us", sa.BigInteger, nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=False),
)

reviews = sa.Table(
    "risk_reviews",
    metadata,
    sa.Column("review_id", sa.String(40), primary_key=True),
    sa.Column("assessment_id", sa.String(40), nullable=False),
    sa.Column("application_id", sa.String(128), nullable=False),
    sa.Column("applicant_id", sa.String(128), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_us", sa.BigInteger, nullable=False),
    sa.Column("final_decision", sa.String(16), nullable=True),
    sa.Column("decided_by", sa.String(300), nullable=True),
    sa.Column("decided_us", sa.BigInteger, nullable=True),
    sa.Column("justification", sa.LargeBinary, nullable=True),
)
