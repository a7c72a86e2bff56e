"""Evaluation of the compliance engines on the labelled corpus; writes eval/results/compliance.json.

- Contract review: finding precision and recall per (contract, check id), overall, on
  the standard wording, on the reworded contracts (synonyms, passive voice, split
  clauses), on the tuning half (standard wording and rewording A: the lexicon, the
  example sentences and the semantic threshold were tuned on it) and separately on
  the held-out rewording (``alt_b``, never used to tune anything). Twice: lexical
  matching only (``contract_review_lexical``) and with the semantic matching of
  required clauses the service runs by default (``contract_review``: the static token-embedding encoder),
  and with the MiniLM transformer as the encoder (``contract_review_minilm``, the previous default).
- Regulations: obligation extraction (modality; modality and subject), absolute
  dates, relative periods and recurring deadlines against hand labels.
- Version comparison: clause changes, obligation strictness and timeline changes.

Run: ``python eval/compliance.py`` from the repository root.
"""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "clients" / "python")]

from server.compliance.analysis import analyze_regulation  # noqa: E402
from server.compliance.comparison import compare_versions  # noqa: E402
from server.compliance.domain import ContractType, DocumentFormat  # noqa: E402
from server.compliance.embedding import SentenceTransformerEmbedder, StaticTokenEmbedder  # noqa: E402
from server.compliance.impact import load_taxonomy  # noqa: E402
from server.compliance.parsing import parse_document  # noqa: E402
from server.compliance.playbooks import PlaybookRegistry  # noqa: E402
from server.compliance.review import ContractReviewer  # noqa: E402
from server.compliance.semantic import ClauseMatcher  # noqa: E402
from server.compliance.text import lemmas_of  # noqa: E402

CORPUS = REPO / "server" / "compliance" / "corpus"
FORMATS = {
    ".txt": DocumentFormat.PLAIN_TEXT,
    ".md": DocumentFormat.MARKDOWN,
    ".pdf": DocumentFormat.PDF,
    ".docx": DocumentFormat.DOCX,
}
# Copies of labelled regulations in other formats: evaluated against the original's labels.
REGULATION_COPIES = {
    "outsourcing_rule.pdf": "outsourcing_rule.txt",
    "wealth_management_sales.docx": "wealth_management_sales.md",
}


def _prf(tp: int, fp: int, fn: int) -> dict[str, float | int]:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def evaluate_contracts(reviewer: ContractReviewer) -> dict[str, Any]:
    labels = json.loads((CORPUS / "labels" / "contracts.json").read_text())
    buckets: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    per_check: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    errors: list[dict[str, Any]] = []
    started = time.perf_counter()
    for name, label in sorted(labels.items()):
        path = CORPUS / "contracts" / name
        document = parse_document(path.read_bytes(), FORMATS[path.suffix])
        review = reviewer.review(name, document, contract_type=ContractType(label["contract_type"]))
        found = {f.check_id for f in review.findings}
        expected = set(label["expected"])
        tp, fp, fn = len(found & expected), len(found - expected), len(expected - found)
        subsets = ["overall", "reworded" if label["reworded"] else "standard_wording"]
        subsets.append("held_out" if label["held_out"] else "tuning")
        subsets.append(f"style_{label['style']}")
        subsets.append(f"format_{path.suffix[1:]}")
        for subset in subsets:
            for i, value in enumerate((tp, fp, fn)):
                buckets[subset][i] += value
        for check in found | expected:
            per_check[check][0] += check in found and check in expected
            per_check[check][1] += check in found and check not in expected
            per_check[check][2] += check in expected and check not in found
        if fp or fn:
            errors.append(
                {
                    "contract": name,
                    "style": label["style"],
                    "false_positives": sorted(found - expected),
                    "false_negatives": sorted(expected - found),
                }
            )
    elapsed = time.perf_counter() - started
    return {
        "contracts": len(labels),
        "reworded_contracts": sum(1 for label in labels.values() if label["reworded"]),
        "held_out_contracts": sum(1 for label in labels.values() if label["held_out"]),
        "findings": {subset: _prf(*values) for subset, values in sorted(buckets.items())},
        "per_check": {check: _prf(*values) for check, values in sorted(per_check.items())},
        "errors": errors,
        "seconds": round(elapsed, 3),
    }


def evaluate_semantic_alone(matcher: ClauseMatcher, registry: PlaybookRegistry) -> dict[str, Any]:
    """Semantic matching with the lexicon switched off, per half: how the parameters were chosen.

    For every contract and every required check with examples: is some sentence accepted for the check?
    ``present_matched`` counts checks the labels say are present (higher is better), ``missing_matched``
    checks the labels say are missing (each one would hide a real finding: must stay 0 on the tuning half).
    """
    from server.compliance.matching import DocumentIndex

    labels = json.loads((CORPUS / "labels" / "contracts.json").read_text())
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_id = {p.playbook_id: p for p in registry.playbooks}
    reviewer = ContractReviewer(registry)
    for name, label in sorted(labels.items()):
        path = CORPUS / "contracts" / name
        document = parse_document(path.read_bytes(), FORMATS[path.suffix])
        playbook = by_id[reviewer.select_playbook(ContractType(label["contract_type"])).playbook_id]
        index = DocumentIndex(document)
        vectors = matcher.embed([" ".join(document.text[s.start : s.end].split()) for s in index.sentences])
        half = counts["held_out" if label["held_out"] else "tuning"]
        for check in playbook.checks:
            if not matcher.covers(playbook.playbook_id, check.check_id):
                continue
            missing = check.check_id in label["expected"]
            matched = matcher.best(playbook.playbook_id, check.check_id, vectors) is not None
            half["missing_checks" if missing else "present_checks"] += 1
            half["missing_matched" if missing else "present_matched"] += matched
    return {half: dict(values) for half, values in sorted(counts.items())}


def _subject_matches(label: str, extracted: str) -> bool:
    wanted = set(lemmas_of(label)) - {"the", "a", "an", "any", "each"}
    return wanted <= set(lemmas_of(extracted))


def evaluate_regulations() -> dict[str, Any]:
    labels = json.loads((CORPUS / "labels" / "regulations.json").read_text())
    taxonomy = load_taxonomy()
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    per_document: dict[str, Any] = {}
    names = [n for n in labels if not n.startswith("_")] + list(REGULATION_COPIES)
    for name in names:
        label = labels[REGULATION_COPIES.get(name, name)]
        path = CORPUS / "regulations" / name
        analysis = analyze_regulation(name, parse_document(path.read_bytes(), FORMATS[path.suffix]), taxonomy)
        counts: dict[str, list[int]] = {}
        # Obligations: matched by clause and modality (and subject for the stricter measure), one to one.
        for measure in ("modality", "modality_and_subject"):
            pool = list(analysis.obligations)
            tp = 0
            for clause_id, modality, subject in label["obligations"]:
                hit = next(
                    (
                        o
                        for o in pool
                        if o.clause_id == clause_id
                        and o.modality.value == modality
                        and (measure == "modality" or _subject_matches(subject, o.subject))
                    ),
                    None,
                )
                if hit is not None:
                    pool.remove(hit)
                    tp += 1
            counts[f"obligations_{measure}"] = [tp, len(analysis.obligations) - tp, len(label["obligations"]) - tp]
        dated = {(e.clause_id, e.event_type.value, e.date.isoformat()) for e in analysis.timeline if e.date}
        wanted = {tuple(x) for x in label["dates"]}
        counts["dates"] = [len(dated & wanted), len(dated - wanted), len(wanted - dated)]
        periods = {
            (e.clause_id, e.period.amount, e.period.unit)
            for e in analysis.timeline
            if e.period and e.event_type.value != "recurring_deadline"
        }
        wanted_periods = {tuple(x) for x in label["periods"]}
        counts["periods"] = [
            len(periods & wanted_periods),
            len(periods - wanted_periods),
            len(wanted_periods - periods),
        ]
        recurring = {e.clause_id for e in analysis.timeline if e.event_type.value == "recurring_deadline"}
        wanted_recurring = set(label["recurring"])
        counts["recurring"] = [
            len(recurring & wanted_recurring),
            len(recurring - wanted_recurring),
            len(wanted_recurring - recurring),
        ]
        for key, values in counts.items():
            for i, value in enumerate(values):
                totals[key][i] += value
        per_document[name] = {key: _prf(*values) for key, values in counts.items()}
    return {
        "documents": len(names),
        "labelled_obligations": sum(len(labels[REGULATION_COPIES.get(n, n)]["obligations"]) for n in names),
        "labelled_dates": sum(len(labels[REGULATION_COPIES.get(n, n)]["dates"]) for n in names),
        "overall": {key: _prf(*values) for key, values in sorted(totals.items())},
        "per_document": per_document,
    }


def evaluate_comparisons() -> dict[str, Any]:
    labels = json.loads((CORPUS / "labels" / "comparisons.json").read_text())
    result: dict[str, Any] = {}
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for name, label in labels.items():
        if name.startswith("_"):
            continue
        old_path, new_path = CORPUS / "regulations" / label["old"], CORPUS / "regulations" / label["new"]
        comparison = compare_versions(
            parse_document(old_path.read_bytes(), FORMATS[old_path.suffix]),
            parse_document(new_path.read_bytes(), FORMATS[new_path.suffix]),
        )
        got_clauses = {(c.change_type.value, c.old_clause_id, c.new_clause_id) for c in comparison.clause_changes}
        got_obligations = {
            (
                c.strictness.value,
                c.old_obligation.clause_id if c.old_obligation else "",
                c.new_obligation.clause_id if c.new_obligation else "",
            )
            for c in comparison.obligation_changes
        }
        got_timeline = {
            (c.old_event.clause_id if c.old_event else "", c.new_event.clause_id if c.new_event else "")
            for c in comparison.timeline_changes
        }
        counts = {}
        for key, got, want in (
            ("clause_changes", got_clauses, {tuple(x) for x in label["clause_changes"]}),
            ("obligation_changes", got_obligations, {tuple(x) for x in label["obligation_changes"]}),
            ("timeline_changes", got_timeline, {tuple(x) for x in label["timeline_changes"]}),
        ):
            counts[key] = [len(got & want), len(got - want), len(want - got)]
            for i, value in enumerate(counts[key]):
                totals[key][i] += value
        result[name] = {key: _prf(*values) for key, values in counts.items()}
    result["overall"] = {key: _prf(*values) for key, values in totals.items()}
    return result


def main() -> None:
    """Run every evaluation and write the results file."""
    registry = PlaybookRegistry.load()
    if registry.semantic is None:
        raise SystemExit("server/compliance/playbooks/semantic.toml is missing")
    started = time.perf_counter()
    static = ClauseMatcher(registry.playbooks, registry.semantic, StaticTokenEmbedder())
    print(f"static token embeddings and the example sentences loaded in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    minilm = ClauseMatcher(registry.playbooks, registry.semantic, SentenceTransformerEmbedder())
    print(f"MiniLM and the example sentences loaded in {time.perf_counter() - started:.1f} s")
    report = {
        "contract_review": {
            "semantic_provenance": static.provenance,
            **evaluate_contracts(ContractReviewer(registry, static)),
        },
        "contract_review_minilm": {
            "semantic_provenance": minilm.provenance,
            **evaluate_contracts(ContractReviewer(registry, minilm)),
        },
        "contract_review_lexical": evaluate_contracts(ContractReviewer(registry)),
        "semantic_alone": {
            "static": evaluate_semantic_alone(static, registry),
            "minilm": evaluate_semantic_alone(minilm, registry),
        },
        "regulation_extraction": evaluate_regulations(),
        "version_comparison": evaluate_comparisons(),
    }
    out = REPO / "eval" / "results" / "compliance.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    for key, label in (
        ("contract_review_lexical", "lexical"),
        ("contract_review_minilm", "minilm"),
        ("contract_review", "static"),
    ):
        findings = report[key]["findings"]
        for subset in ("overall", "standard_wording", "reworded", "tuning", "held_out"):
            if subset in findings:
                value = findings[subset]
                print(
                    f"findings {label:8s} {subset:17s} P={value['precision']:.3f} R={value['recall']:.3f}"
                    f" (tp {value['tp']}, fp {value['fp']}, fn {value['fn']})"
                )
    for encoder, halves in report["semantic_alone"].items():
        for half, value in halves.items():
            print(
                f"semantic alone ({encoder}, {half}): present checks matched {value['present_matched']} of "
                f"{value['present_checks']}, missing checks matched {value['missing_matched']} of "
                f"{value['missing_checks']}"
            )
    for key, value in report["regulation_extraction"]["overall"].items():
        print(f"regulations {key:30s} P={value['precision']:.3f} R={value['recall']:.3f}")
    for key, value in report["version_comparison"]["overall"].items():
        print(f"comparison {key:20s} P={value['precision']:.3f} R={value['recall']:.3f}")
    print(f"wrote {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
