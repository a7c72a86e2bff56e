"""Evaluate AML screening on an AMLSim archive: ``python eval/aml.py [--data ARCHIVE.tgz] [--out FILE.json]``.

Default data: ``../shared/data/amlsim/20K_fanin200.tgz`` (``FINTECH_SHARED_DATA`` overrides the
folder); default output: ``eval/results/aml.json``. The logic lives in ``server/aml/evaluation.py``
(also behind ``fintech eval aml``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from server.aml.evaluation import default_archive, evaluate_archive  # noqa: E402

RESULTS = REPO_ROOT / "eval" / "results" / "aml.json"


def main(argv: list[str] | None = None) -> int:
    """Command line: screen an archive and write the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=None, help="AMLSim archive (.tgz)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="output JSON")
    args = parser.parse_args(argv)
    figures = evaluate_archive(args.data or default_archive(), args.out)
    level = figures["account_level"]
    print(
        f"{figures['archive']}: precision {level['precision']:.3f} recall {level['recall']:.3f} F1 {level['f1']:.3f}; "
        f"{figures['alerts_per_1000_accounts']} alerts per 1,000 accounts; {figures['seconds']['total']} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
