"""The compliance engine facade: what the servicer calls, with protobuf already mapped to domain types.

Synchronous and CPU-bound: the servicer runs these in an executor (one call
per contract in bulk review), so the event loop never parses a PDF.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from server.compliance import analysis as analysis_module
from server.compliance import review as review_module
from server.compliance.comparison import ENGINE_VERSION as COMPARISON_VERSION
from server.compliance.comparison import compare_versions
from server.compliance.domain import (
    ContractReviewResult,
    ContractType,
    DocumentFormat,
    ParsedDocument,
    Playbook,
    ProcessTaxonomy,
    ReduceStep,
    RegulationAnalysis,
    SummaryChunk,
    VersionComparison,
)
from server.compliance.impact import TextEmbedder, load_taxonomy
from server.compliance.parsing import parse_document
from server.compliance.planning import iter_map_chunks, plan_reduce
from server.compliance.playbooks import PlaybookRegistry
from server.compliance.review import ContractReviewer, ReviewItem
from server.compliance.semantic import ClauseMatcher
from server.compliance.settings import ComplianceSettings
from server.runtime.errors import FieldViolation, InvalidArgument

DOMAIN = "compliance.fintech"
REGULATION_ENGINE = analysis_module.ENGINE
REVIEW_ENGINE = review_module.ENGINE
COMPARISON_ENGINE = "compliance.version_comparison"


class ComplianceEngine:
    """Parses documents and runs the deterministic analyses under one configuration."""

    def __init__(
        self,
        settings: ComplianceSettings,
        registry: PlaybookRegistry,
        taxonomy: ProcessTaxonomy,
        embedder: TextEmbedder | None = None,
        clause_matcher: ClauseMatcher | None = None,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.taxonomy = taxonomy
        self.embedder = embedder
        self.reviewer = ContractReviewer(registry, clause_matcher)

    @classmethod
    def from_settings(cls, settings: ComplianceSettings, embedder: TextEmbedder | None = None) -> ComplianceEngine:
        """Load playbooks, lexicon and taxonomy named by ``settings`` (and the sentence encoder of semantic matching).

        Args:
            settings: The compliance settings.
            embedder: For the impact score of regulations (optional).

        Raises:
            ValueError: a malformed configuration file (named in the message), or ``semantic_matching`` on
                without a ``semantic.toml`` in the playbook directory.
        """
        registry = PlaybookRegistry.load(settings.playbook_dir)
        matcher = None
        if settings.semantic_matching:
            if registry.semantic is None:
                raise ValueError(f"{settings.playbook_dir}: semantic_matching is on but there is no semantic.toml")
            from server.compliance.embedding import SentenceTransformerEmbedder, StaticTokenEmbedder

            encoder = StaticTokenEmbedder() if settings.semantic_encoder == "static" else SentenceTransformerEmbedder()
            matcher = ClauseMatcher(
                registry.playbooks, registry.semantic, encoder, cache_size=settings.semantic_cache_size
            )
        return cls(settings, registry, load_taxonomy(settings.taxonomy_file), embedder, matcher)

    def parse(self, content: bytes, fmt: DocumentFormat, field_name: str = "document") -> ParsedDocument:
        """Parse a document, enforcing the configured size limits.

        Raises:
            InvalidArgument: too large, unreadable or empty (naming ``<field_name>.content``).
        """
        if len(content) > self.settings.max_document_bytes:
            raise self._too_large(field_name, f"document exceeds {self.settings.max_document_bytes} bytes")
        try:
            document = parse_document(content, fmt)
        except InvalidArgument as exc:
            if field_name == "document":
                raise
            raise InvalidArgument(
                message=exc.message,
                reason=exc.reason,
                domain=exc.domain,
                violations=tuple(
                    FieldViolation(v.field.replace("document", field_name, 1), v.description, v.reason)
                    for v in exc.violations
                ),
            ) from None
        if document.word_count > self.settings.max_document_words:
            raise self._too_large(field_name, f"document exceeds {self.settings.max_document_words} words")
        return document

    @staticmethod
    def _too_large(field_name: str, description: str) -> InvalidArgument:
        return InvalidArgument(
            message=description,
            reason="DOCUMENT_TOO_LARGE",
            domain=DOMAIN,
            violations=(FieldViolation(f"{field_name}.content", description, "DOCUMENT_TOO_LARGE"),),
        )

    def analyze_regulation(
        self, regulation_id: str, content: bytes, fmt: DocumentFormat, reference_date: date | None = None
    ) -> RegulationAnalysis:
        """Parse and analyse a regulation (obligations, timeline, impact, risk points)."""
        document = self.parse(content, fmt)
        return analysis_module.analyze_regulation(
            regulation_id,
            document,
            self.taxonomy,
            reference_date=reference_date,
            embedder=self.embedder,
            embedding_weight=self.settings.impact_embedding_weight,
            min_impact_score=self.settings.impact_min_score,
        )

    def summary_plan(self, analysis: RegulationAnalysis) -> tuple[Iterator[SummaryChunk], list[ReduceStep]]:
        """The map chunks (a lazy iterator) and reduce steps for the LLM summaries of ``analysis``."""
        chunks = list(c.chunk_id for c in iter_map_chunks(analysis.document, self.settings.summary_token_budget))
        return (
            iter_map_chunks(analysis.document, self.settings.summary_token_budget),
            plan_reduce(chunks, self.settings.summary_fan_in),
        )

    def compare_regulation_versions(
        self, old: bytes, old_format: DocumentFormat, new: bytes, new_format: DocumentFormat
    ) -> VersionComparison:
        """Parse two versions and compare them (fields ``old_version`` / ``new_version`` in errors)."""
        return self.compare_documents(old, old_format, new, new_format)[2]

    def compare_documents(
        self, old: bytes, old_format: DocumentFormat, new: bytes, new_format: DocumentFormat
    ) -> tuple[ParsedDocument, ParsedDocument, VersionComparison]:
        """Parse two versions and compare them; also return both parsed versions (for a side-by-side view)."""
        old_document = self.parse(old, old_format, "old_version")
        new_document = self.parse(new, new_format, "new_version")
        return old_document, new_document, compare_versions(old_document, new_document)

    def review_contract(
        self,
        contract_id: str,
        content: bytes,
        fmt: DocumentFormat,
        contract_type: ContractType | None = None,
        playbook_id: str = "",
    ) -> ContractReviewResult:
        """Parse and review one contract against its playbook."""
        return self.reviewer.review(
            contract_id, self.parse(content, fmt), contract_type=contract_type, playbook_id=playbook_id
        )

    def review_contracts(
        self, items: list[tuple[str, bytes, DocumentFormat, ContractType | None, str]]
    ) -> list[ContractReviewResult | InvalidArgument]:
        """Parse and review a micro-batch (contract id, content, format, type, playbook id), embedding it at once.

        Returns:
            One result per item, in order, or the ``InvalidArgument`` that item failed with (the others go on).
        """
        parsed: list[ReviewItem | InvalidArgument] = []
        for contract_id, content, fmt, contract_type, playbook_id in items:
            try:
                parsed.append(ReviewItem(contract_id, self.parse(content, fmt), contract_type, playbook_id))
            except InvalidArgument as error:
                parsed.append(error)
        reviewed = iter(self.reviewer.review_many([p for p in parsed if isinstance(p, ReviewItem)]))
        return [p if isinstance(p, InvalidArgument) else next(reviewed) for p in parsed]

    def list_playbooks(self) -> tuple[Playbook, ...]:
        """Every loaded playbook, ordered by id."""
        return tuple(sorted(self.registry.playbooks, key=lambda p: p.playbook_id))

    @property
    def comparison_version(self) -> str:
        """Version of the comparison engine (for provenance)."""
        return COMPARISON_VERSION
