# ruff: noqa: E501  (contract prose: one clause wording per line reads better than wrapped fragments)
"""Clause bank of the sample contracts: standard wording and two independent rewordings.

Each clause has a standard wording close to the playbook's vocabulary and two
rewordings that avoid it (synonyms, passive voice, content split over
sections): ``alt_a`` was available while the matcher was developed, ``alt_b``
was written at the same time but never used to tune the lexicon, so its
results are a held-out measure. Defects are deliberately missing, prohibited,
over-limit or inconsistent clauses, each mapped to the playbook check it must
trigger. Placeholders in braces are filled by :mod:`generate`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Wording:
    """One clause in the three styles (``None`` where a style omits it)."""

    standard: str
    alt_a: str
    alt_b: str

    def get(self, style: str) -> str:
        return {"standard": self.standard, "alt_a": self.alt_a, "alt_b": self.alt_b}[style]


@dataclass(frozen=True)
class Section:
    """A contract section; ``key`` names it for defects, ``check`` is the check that fires when it is missing."""

    key: str
    heading: Wording
    body: Wording
    check: str = ""


@dataclass(frozen=True)
class Defect:
    """A deliberate problem: replaces (or adds) a section's body and must trigger ``check``."""

    name: str
    check: str
    section: str
    body: Wording
    append: bool = False
    extra: dict[str, str] = field(default_factory=dict)


W = Wording

LOAN_SECTIONS = [
    Section(
        "amount",
        W("Loan Amount", "The Credit", "What We Lend"),
        W(
            "The Lender grants the Borrower a loan of EUR {amount_fig} ({amount_words} euros), paid out on the drawdown date.",
            "A credit of EUR {amount_fig} ({amount_words} euros) is made available to the Borrower by the Lender.",
            "The Borrower receives from the Lender the principal sum of {amount_words} euros (EUR {amount_fig}).",
        ),
    ),
    Section(
        "interest",
        W("Interest", "Price of the Credit", "Cost of Borrowing"),
        W(
            "The borrowing rate is {rate}% per annum, fixed for the whole term of the loan.",
            "Interest accrues on the outstanding principal at a fixed yearly rate of {rate} per cent.",
            "For each year the principal remains outstanding, the Borrower pays {rate} per cent of it as interest.",
        ),
    ),
    Section(
        "apr",
        W("Annual Percentage Rate", "Effective Rate", "True Cost"),
        W(
            "The annual percentage rate of charge (APR) is {apr}%.",
            "Taking into account interest and all fees, the effective annual interest rate of this credit is {apr} per cent.",
            "Including all fees, the yearly cost of this credit expressed as a percentage of the credit is {apr} per cent.",
        ),
        check="loan.apr_disclosure",
    ),
    Section(
        "total_cost",
        W("Total Cost", "What the Borrower Repays", "Overall Payments"),
        W(
            "The total cost of credit is EUR {cost_fig} and the total amount payable by the Borrower is EUR {total_fig}.",
            "Over the whole term, the Borrower will pay back EUR {total_fig} in total, of which EUR {cost_fig} is interest and fees.",
            "Added together, all instalments come to EUR {total_fig}; the credit therefore costs the Borrower EUR {cost_fig}.",
        ),
        check="loan.total_cost_disclosure",
    ),
    Section(
        "term",
        W("Term and Repayment", "Duration", "Timetable"),
        W(
            "The loan has a term of {term} months. It is drawn down on {start} and shall be repaid in full by {end} in {term} equal monthly instalments.",
            "The credit runs for a term of {term} months, starting on {start}; the final maturity date is {end}.",
            "The Borrower repays the credit in monthly instalments over a period of {term} months, from {start} to {end}.",
        ),
    ),
    Section(
        "early",
        W("Early Repayment", "Paying Back Ahead of Schedule", "Ending the Credit Sooner"),
        W(
            "The Borrower may make an early repayment of the loan, in whole or in part, at any time. An early repayment fee of {erf}% of the amount repaid early applies.",
            "The Borrower is free to pay off the outstanding balance, or any portion of it, ahead of the agreed schedule. For principal returned before it falls due, the Lender is entitled to compensation of {erf} per cent of that principal.",
            "Nothing prevents the Borrower from settling the remaining debt before the final instalment is due, wholly or partly. A charge of {erf} per cent of any sum settled ahead of time is then payable.",
        ),
        check="loan.early_repayment",
    ),
    Section(
        "default",
        W("Default Interest", "Late Payments", "Missed Instalments"),
        W(
            "Default interest of {dflt}% per annum is charged on any amount not paid when due.",
            "Sums that remain unpaid after their due date bear interest at {dflt} per cent a year.",
            "If an instalment is missed, the overdue amount attracts additional interest of {dflt} per cent per year until paid.",
        ),
    ),
    Section(
        "withdrawal",
        W("Right of Withdrawal", "Changing Your Mind", "Reconsideration"),
        W(
            "The Borrower has a right of withdrawal: the Borrower may withdraw from this agreement within 14 calendar days without giving any reason.",
            "Within fourteen days after signature, the Borrower can cancel this agreement by written notice, without stating reasons.",
            "During the first fourteen days after signing, the Borrower may back out of this contract without explanation and without penalty.",
        ),
        check="loan.cooling_off",
    ),
    Section(
        "data",
        W("Data Protection", "Your Information", "Privacy"),
        W(
            "The Lender processes the Borrower's personal data in accordance with data protection law, only for the purposes of this agreement.",
            "Information about the Borrower is handled only to administer this loan and is kept for ten years after it ends.",
            "Details that identify the Borrower are stored and used by the Lender solely for managing the credit, and the Borrower may ask to see them.",
        ),
        check="loan.data_protection",
    ),
    Section(
        "law",
        W("Governing Law", "Applicable Rules", "Legal Framework"),
        W(
            "This agreement is governed by the laws of Ireland.",
            "This agreement shall be construed in accordance with Irish law.",
            "Irish law applies to this contract and to every question about its meaning.",
        ),
        check="loan.governing_law",
    ),
    Section(
        "disputes",
        W("Dispute Resolution", "Disagreements", "If Something Goes Wrong"),
        W(
            "Any dispute arising from this agreement shall be submitted to the courts of Dublin. The Borrower may also refer a complaint to the Financial Services Ombudsman.",
            "Disagreements about this contract are settled by the Dublin courts; the Borrower may alternatively bring a complaint before the Financial Services Ombudsman.",
            "Should the parties fall out over this agreement, either of them may bring the matter before a judge in Dublin.",
        ),
        check="loan.dispute_resolution",
    ),
]

LOAN_DEFECTS = [
    Defect(
        "unilateral_rate",
        "loan.unilateral_rate_change",
        "interest",
        W(
            "The borrowing rate is {rate}% per annum. The Lender may change the interest rate at its sole discretion at any time.",
            "Interest accrues at a yearly rate of {rate} per cent. That rate may be revised by the Lender whenever it considers appropriate.",
            "For each year the principal remains outstanding, the Borrower pays {rate} per cent of it as interest, a figure the Lender is free to increase as it determines.",
        ),
    ),
    Defect(
        "waiver",
        "loan.waiver_of_statutory_rights",
        "withdrawal",
        W(
            "The Borrower has a right of withdrawal within 14 calendar days. The Borrower waives all statutory rights in connection with this loan.",
            "The Borrower may withdraw from this agreement within 14 calendar days. Any protection the Borrower might otherwise enjoy under consumer protection legislation is hereby excluded.",
            "The Borrower may back out of this contract within fourteen days. Beyond that, the Borrower gives up every right granted by law in connection with this credit.",
        ),
    ),
    Defect(
        "auto_renewal",
        "loan.automatic_renewal",
        "term",
        W(
            "The loan has a term of {term} months starting on {start}. This agreement renews automatically for successive 12-month periods.",
            "The credit runs for a term of {term} months, starting on {start}. At the end of that term, the facility is rolled over for another year unless the Borrower terminates it.",
            "The Borrower repays the credit over a period of {term} months, starting on {start}. Each time it expires, the credit line shall be deemed extended for a further year.",
        ),
    ),
    Defect(
        "penalty_cap",
        "loan.penalty_interest_cap",
        "default",
        W(
            "Default interest of 18% per annum is charged on any amount not paid when due.",
            "Sums that remain unpaid after their due date bear interest at 18 per cent a year.",
            "If an instalment is missed, the overdue amount attracts additional interest of 9 percentage points above the borrowing rate until paid.",
        ),
    ),
    Defect(
        "erf_cap",
        "loan.early_repayment_fee_cap",
        "early",
        W(
            "The Borrower may make an early repayment of the loan, in whole or in part, at any time. An early repayment fee of 3% of the amount repaid early applies.",
            "The Borrower is free to pay off the outstanding balance, or any portion of it, ahead of the agreed schedule. For principal returned before it falls due, the Lender is entitled to compensation of 3 per cent of that principal.",
            "Nothing prevents the Borrower from settling the remaining debt before the final instalment is due. A prepayment charge of two and a half per cent of any sum settled ahead of time is then payable.",
        ),
    ),
    Defect(
        "amount_words",
        "loan.amount_words_digits",
        "amount",
        W(
            "The Lender grants the Borrower a loan of EUR {amount_fig} ({wrong_words} euros), paid out on the drawdown date.",
            "A credit of EUR {amount_fig} ({wrong_words} euros) is made available to the Borrower by the Lender.",
            "The Borrower receives from the Lender the principal sum of {wrong_words} euros (EUR {amount_fig}).",
        ),
    ),
    Defect(
        "dates",
        "loan.date_consistency",
        "term",
        W(
            "The loan has a term of {term} months. It is drawn down on {start} and shall be repaid in full by {bad_end} in {term} equal monthly instalments.",
            "The credit runs for a term of {term} months, starting on {start}; the final maturity date is {bad_end}.",
            "The Borrower repays the credit in monthly instalments over a period of {term} months, from {start} to {bad_end}.",
        ),
    ),
    Defect(
        "parties", "loan.party_consistency", "signatures", W("", "", ""), extra={"signature_lender": "{lender_alias}"}
    ),
]

GUARANTEE_SECTIONS = [
    Section(
        "object",
        W("Guarantee", "The Undertaking", "What the Guarantor Promises"),
        W(
            "The Guarantor guarantees to the Lender the due payment of all amounts owed by the Borrower under loan agreement no. {loan_no}.",
            "The Guarantor undertakes to pay the Lender any sum that the Borrower fails to pay under loan agreement no. {loan_no}.",
            "If the Borrower does not pay what is due under loan agreement no. {loan_no}, the Guarantor will pay it instead.",
        ),
    ),
    Section(
        "cap",
        W("Maximum Amount", "Extent of the Undertaking", "How Much"),
        W(
            "The liability of the Guarantor is limited to a maximum amount of EUR {amount_fig} ({amount_words} euros), plus interest and costs.",
            "The Guarantor can be called upon for no more than EUR {amount_fig} ({amount_words} euros) altogether.",
            "Whatever happens, the Guarantor will never have to pay more than {amount_words} euros (EUR {amount_fig}) in total.",
        ),
        check="guarantee.maximum_amount",
    ),
    Section(
        "info",
        W("Information to the Guarantor", "Keeping the Guarantor Up to Date", "Reporting"),
        W(
            "The Lender shall inform the Guarantor of any payment default of the Borrower within 30 days and, each year, of the outstanding amount.",
            "The Guarantor will be told by the Lender within 30 days whenever the Borrower misses a payment, and will receive a yearly statement of the debt.",
            "Each year, and within thirty days after any missed instalment, the Lender writes to the Guarantor with the amount still owed.",
        ),
        check="guarantee.guarantor_information",
    ),
    Section(
        "advice",
        W("Independent Advice", "Before Signing", "Acknowledgement"),
        W(
            "The Guarantor is advised to seek independent legal advice before signing this guarantee.",
            "The Guarantor confirms having been recommended to consult a lawyer of the Guarantor's own choosing before signing.",
            "Before putting a signature to this document, the Guarantor was urged to have it checked by a solicitor who does not act for the Lender.",
        ),
        check="guarantee.independent_advice",
    ),
    Section(
        "duration",
        W("Duration", "Period of the Guarantee", "How Long"),
        W(
            "This guarantee has a term of {term} months, from {start} to {end}.",
            "The undertaking runs for a period of {term} months, starting on {start} and ending on {end}.",
            "The guarantee takes effect on {start} and ends on {end}, a term of {term} months.",
        ),
    ),
    Section(
        "data",
        W("Data Protection", "Use of Information", "Privacy"),
        W(
            "The Lender processes the Guarantor's personal data in accordance with data protection law.",
            "Information about the Guarantor is collected and stored only to administer this guarantee.",
            "Details identifying the Guarantor are kept by the Lender solely for managing this guarantee.",
        ),
        check="guarantee.data_protection",
    ),
    Section(
        "law",
        W("Governing Law", "Applicable Rules", "Legal Framework"),
        W(
            "This guarantee is governed by the laws of the Netherlands.",
            "This guarantee shall be construed in accordance with Dutch law.",
            "Dutch law applies to this guarantee and to every question about its meaning.",
        ),
        check="guarantee.governing_law",
    ),
    Section(
        "disputes",
        W("Disputes", "Disagreements", "Courts"),
        W(
            "Any dispute arising from this guarantee shall be submitted to the courts of Amsterdam.",
            "Disagreements about this undertaking are settled by the Amsterdam district court.",
            "If the parties cannot agree about this guarantee, a judge in Amsterdam decides.",
        ),
        check="guarantee.dispute_resolution",
    ),
]

GUARANTEE_DEFECTS = [
    Defect(
        "unlimited",
        "guarantee.unlimited_liability",
        "object",
        W(
            "The Guarantor guarantees to the Lender the payment of all monies, present and future, owed by the Borrower to the Lender.",
            "The Guarantor stands behind every liability whatsoever of the Borrower towards the Lender, whether existing now or arising later.",
            "The Guarantor will pay any and all obligations of the Borrower to the Lender, of whatever kind and without limit.",
        ),
    ),
    Defect(
        "waiver",
        "guarantee.waiver_of_statutory_rights",
        "advice",
        W(
            "The Guarantor is advised to seek independent legal advice. The Guarantor waives all statutory rights and defences.",
            "The Guarantor has been recommended to consult a lawyer. The Guarantor renounces the benefit of discussion and of division and all other defences available at law.",
            "The Guarantor was urged to obtain legal advice. The Guarantor shall have no recourse to any protection that legislation would otherwise give.",
        ),
    ),
    Defect(
        "amount_words",
        "guarantee.amount_words_digits",
        "cap",
        W(
            "The liability of the Guarantor is limited to a maximum amount of EUR {amount_fig} ({wrong_words} euros), plus interest and costs.",
            "The Guarantor can be called upon for no more than EUR {amount_fig} ({wrong_words} euros) altogether.",
            "Whatever happens, the Guarantor will never have to pay more than {wrong_words} euros (EUR {amount_fig}) in total.",
        ),
    ),
    Defect(
        "dates",
        "guarantee.date_consistency",
        "duration",
        W(
            "This guarantee has a term of {term} months, from {start} to {before_start}.",
            "The undertaking runs for a period of {term} months, starting on {start} and ending on {before_start}.",
            "The guarantee takes effect on {start} and ends on {before_start}, a term of {term} months.",
        ),
    ),
    Defect(
        "parties",
        "guarantee.party_consistency",
        "signatures",
        W("", "", ""),
        extra={"signature_lender": "{lender_alias}"},
    ),
]

WEALTH_SECTIONS = [
    Section(
        "mandate",
        W("Mandate", "Scope of the Service", "What the Manager Does"),
        W(
            "The Client appoints the Manager to manage the Client's portfolio of EUR {amount_fig} ({amount_words} euros) on a discretionary basis.",
            "The Manager is entrusted with the discretionary management of assets worth EUR {amount_fig} ({amount_words} euros) belonging to the Client.",
            "The Client hands over {amount_words} euros (EUR {amount_fig}) for the Manager to invest at its discretion.",
        ),
    ),
    Section(
        "profile",
        W("Suitability", "Knowing the Client", "Investment Approach"),
        W(
            "Before managing the portfolio, the Manager assesses the suitability of the service on the basis of the Client's investment objectives, risk tolerance, knowledge and experience.",
            "The Manager has obtained from the Client information about the Client's financial situation and goals, and invests in line with the attitude to risk thus established.",
            "Investments are chosen to match what the Client wants to achieve, how much loss the Client can bear, and how familiar the Client is with financial markets.",
        ),
        check="wealth.suitability",
    ),
    Section(
        "fees",
        W("Costs and Charges", "Remuneration", "What the Client Pays"),
        W(
            "The Manager charges a management fee of {mfee}% per annum of the assets under management. All costs and charges are disclosed in the fee schedule and in a yearly ex-post statement.",
            "For managing the portfolio the Manager receives remuneration of {mfee} per cent of the assets each year. A statement of everything the Client paid is sent every year.",
            "Each year the Client pays the Manager {mfee} per cent of the value of the portfolio for its work; a full breakdown of every amount deducted is provided annually.",
        ),
        check="wealth.costs_disclosure",
    ),
    Section(
        "conflicts",
        W("Conflicts of Interest", "Third-Party Payments", "Independence"),
        W(
            "The Manager maintains a conflicts of interest policy and discloses any inducement received from third parties.",
            "Where the interests of the Manager may differ from those of the Client, the Manager says so; commissions received from product providers are passed on to the Client.",
            "The Manager keeps no payment it receives from the issuers of products it buys for the Client, and tells the Client whenever its own interests could diverge from the Client's.",
        ),
        check="wealth.conflicts_of_interest",
    ),
    Section(
        "complaints",
        W("Complaints", "If the Client Is Unhappy", "Raising Concerns"),
        W(
            "Complaints may be addressed to the Manager's complaints department; unresolved complaints may be referred to the ombudsman.",
            "A Client who is dissatisfied with the service may write to the Manager, and may then escalate the matter to the ombudsman.",
            "If the Client is unhappy with the service, the Client may write to the head of client care, and afterwards to the independent arbiter for financial services.",
        ),
        check="wealth.complaints",
    ),
    Section(
        "term",
        W("Term", "Duration", "How Long"),
        W(
            "This agreement has a term of {term} months, from {start} to {end}.",
            "The mandate runs for a period of {term} months, starting on {start} and ending on {end}.",
            "The mandate takes effect on {start} and ends on {end}, a term of {term} months.",
        ),
    ),
    Section(
        "data",
        W("Data Protection", "Use of Information", "Privacy"),
        W(
            "The Manager processes the Client's personal data in accordance with data protection law.",
            "Information about the Client is collected and stored only to provide this service.",
            "Details identifying the Client are kept by the Manager solely to manage the portfolio.",
        ),
        check="wealth.data_protection",
    ),
    Section(
        "law",
        W("Governing Law", "Applicable Rules", "Legal Framework"),
        W(
            "This agreement is governed by the laws of Luxembourg.",
            "This agreement shall be construed in accordance with Luxembourg law.",
            "Luxembourg law applies to this agreement and to every question about its meaning.",
        ),
        check="wealth.governing_law",
    ),
]

WEALTH_DEFECTS = [
    Defect(
        "guaranteed",
        "wealth.guaranteed_returns",
        "mandate",
        W(
            "The Client appoints the Manager to manage the Client's portfolio of EUR {amount_fig} ({amount_words} euros). The Manager offers a guaranteed return of 6% per annum.",
            "The Manager is entrusted with the management of assets worth EUR {amount_fig} ({amount_words} euros). The Client's capital is protected in all market conditions and a yearly gain of 6 per cent is assured.",
            "The Client hands over {amount_words} euros (EUR {amount_fig}) for the Manager to invest. The Client cannot lose money under this mandate.",
        ),
    ),
    Defect(
        "mfee_cap",
        "wealth.management_fee_cap",
        "fees",
        W(
            "The Manager charges a management fee of 3.5% per annum of the assets under management. All costs and charges are disclosed in the fee schedule.",
            "For managing the portfolio the Manager receives remuneration of 3.5 per cent of the assets each year. A statement of everything the Client paid is sent every year.",
            "Each year the Client pays the Manager three per cent of the value of the portfolio for its work; a full breakdown of every amount deducted is provided annually.",
        ),
    ),
    Defect(
        "pfee_cap",
        "wealth.performance_fee_cap",
        "fees",
        W(
            "The Manager charges a management fee of {mfee}% per annum of the assets under management and a performance fee of 30% of the outperformance. All costs and charges are disclosed in the fee schedule.",
            "For managing the portfolio the Manager receives remuneration of {mfee} per cent of the assets each year, plus a success fee of 30 per cent of any gain above the benchmark. A statement of everything the Client paid is sent every year.",
            "Each year the Client pays the Manager {mfee} per cent of the value of the portfolio, and in addition a profit share of 35 per cent of returns above the benchmark; a full breakdown of every amount deducted is provided annually.",
        ),
    ),
    Defect(
        "auto_renewal",
        "wealth.automatic_renewal",
        "term",
        W(
            "This agreement has a term of {term} months from {start}. It renews automatically for successive periods of one year.",
            "The mandate runs for a period of {term} months, starting on {start}, and is tacitly prolonged year after year unless the Client ends it.",
            "The mandate takes effect on {start} for a term of {term} months; on expiry it shall be deemed renewed for another year, and so on.",
        ),
    ),
    Defect(
        "waiver",
        "wealth.waiver_of_statutory_rights",
        "complaints",
        W(
            "Complaints may be addressed to the Manager's complaints department. The Client waives all statutory rights to compensation.",
            "A Client who is dissatisfied may write to the Manager. The Client relinquishes any right to compensation provided by law.",
            "If the Client is unhappy with the service, the Client may write to the head of client care. Consumer protection rules shall cease to apply to this relationship.",
        ),
    ),
    Defect(
        "amount_words",
        "wealth.amount_words_digits",
        "mandate",
        W(
            "The Client appoints the Manager to manage the Client's portfolio of EUR {amount_fig} ({wrong_words} euros) on a discretionary basis.",
            "The Manager is entrusted with the discretionary management of assets worth EUR {amount_fig} ({wrong_words} euros) belonging to the Client.",
            "The Client hands over {wrong_words} euros (EUR {amount_fig}) for the Manager to invest at its discretion.",
        ),
    ),
    Defect(
        "parties", "wealth.party_consistency", "signatures", W("", "", ""), extra={"signature_lender": "{lender_alias}"}
    ),
]

OUTSOURCING_SECTIONS = [
    Section(
        "services",
        W("Services", "Scope", "What the Provider Does"),
        W(
            "The Provider shall operate the Institution's card payment processing platform as described in Schedule 1, for an annual fee of EUR {amount_fig} ({amount_words} euros).",
            "The card payment processing platform of the Institution is run by the Provider as set out in Schedule 1, against a yearly fee of EUR {amount_fig} ({amount_words} euros).",
            "The Institution relies on the Provider to run its card payment processing, for which it pays {amount_words} euros (EUR {amount_fig}) a year.",
        ),
    ),
    Section(
        "audit",
        W("Audit Rights", "Access and Information", "Oversight"),
        W(
            "The Institution, its auditors and the competent authority have full audit rights, including access to the Provider's premises, systems and records.",
            "The Provider grants the Institution, its auditors and the supervisor unrestricted access to its premises, books and systems for inspection.",
            "Whenever the Institution or the supervisor wishes to examine how the services are performed, the Provider opens its sites, files and systems to them.",
        ),
        check="outsourcing.audit_rights",
    ),
    Section(
        "sub",
        W("Sub-outsourcing", "Use of Other Suppliers", "Third Parties"),
        W(
            "The Provider shall not subcontract any part of the services without the prior written consent of the Institution.",
            "Parts of the services may be entrusted to another provider only after having obtained the written approval of the Institution.",
            "No other company may take over any part of this work unless the Institution has agreed to it in writing beforehand.",
        ),
        check="outsourcing.subcontracting",
    ),
    Section(
        "bcp",
        W("Business Continuity", "Resilience", "Keeping the Service Running"),
        W(
            "The Provider maintains a business continuity and disaster recovery plan and tests it at least once a year.",
            "A contingency plan for the services is kept up to date by the Provider and tested every year.",
            "The Provider is ready to restore the service at a second site within four hours of a failure, and rehearses this yearly.",
        ),
        check="outsourcing.business_continuity",
    ),
    Section(
        "exit",
        W("Termination and Exit", "Ending the Arrangement", "Handover"),
        W(
            "The Institution may terminate this agreement with six months' notice. On termination the Provider shall provide transition assistance under an agreed exit plan and return all data.",
            "The Institution can end this contract on six months' notice; the Provider then supports the orderly transfer of the services to the Institution or a new provider and hands back all data.",
            "The Institution can end this contract on six months' notice; the Provider then helps move the work to whoever takes it over and gives back everything that belongs to the Institution.",
        ),
        check="outsourcing.termination_rights",
    ),
    Section(
        "term",
        W("Term", "Duration", "How Long"),
        W(
            "This agreement has a term of {term} months, from {start} to {end}.",
            "The contract runs for a period of {term} months, starting on {start} and ending on {end}.",
            "The contract takes effect on {start} and ends on {end}, a term of {term} months.",
        ),
    ),
    Section(
        "data",
        W("Data Protection", "Customer Information", "Privacy"),
        W(
            "The Provider processes personal data only on the Institution's instructions and keeps it within the European Economic Area.",
            "Information relating to the Institution's customers is handled by the Provider only as instructed and is stored in the European Economic Area.",
            "Customer details entrusted to the Provider are used only as the Institution directs and never leave the European Economic Area.",
        ),
        check="outsourcing.data_protection",
    ),
    Section(
        "confidentiality",
        W("Confidentiality", "Discretion", "Secrecy"),
        W(
            "The Provider shall keep confidential all information received from the Institution.",
            "Everything the Provider learns about the Institution and its customers is treated as confidential.",
            "The Provider will not pass on to anyone what it learns about the Institution's business or customers.",
        ),
        check="outsourcing.confidentiality",
    ),
    Section(
        "law",
        W("Governing Law", "Applicable Rules", "Legal Framework"),
        W(
            "This agreement is governed by the laws of Germany.",
            "This agreement shall be construed in accordance with German law.",
            "German law applies to this contract and to every question about its meaning.",
        ),
        check="outsourcing.governing_law",
    ),
]

OUTSOURCING_DEFECTS = [
    Defect(
        "auto_renewal",
        "outsourcing.automatic_renewal",
        "term",
        W(
            "This agreement has a term of {term} months from {start} and renews automatically for successive periods of 12 months.",
            "The contract runs for a period of {term} months, starting on {start}, and is thereafter extended by a further year each time, unless terminated.",
            "The contract takes effect on {start} for a term of {term} months, and then simply continues for another year, and so on, unless one side ends it.",
        ),
    ),
    Defect(
        "amount_words",
        "outsourcing.amount_words_digits",
        "services",
        W(
            "The Provider shall operate the Institution's card payment processing platform as described in Schedule 1, for an annual fee of EUR {amount_fig} ({wrong_words} euros).",
            "The card payment processing platform of the Institution is run by the Provider as set out in Schedule 1, against a yearly fee of EUR {amount_fig} ({wrong_words} euros).",
            "The Institution relies on the Provider to run its card payment processing, for which it pays {wrong_words} euros (EUR {amount_fig}) a year.",
        ),
    ),
    Defect(
        "dates",
        "outsourcing.date_consistency",
        "term",
        W(
            "This agreement has a term of {term} months, from {start} to {bad_end}.",
            "The contract runs for a period of {term} months, starting on {start} and ending on {bad_end}.",
            "The contract takes effect on {start} and ends on {bad_end}, a term of {term} months.",
        ),
    ),
    Defect(
        "parties",
        "outsourcing.party_consistency",
        "signatures",
        W("", "", ""),
        extra={"signature_lender": "{lender_alias}"},
    ),
]
