"""Answer-level figures of CustomerService: grounded-answer rate, escalation precision and recall.

Runs the labelled conversations (``eval/customer/conversations.jsonl``) through the real answering engine
(milvus-lite over the shipped articles, the shipped intent classifier) without an LLM, and writes the
figures into the ``answers`` section of ``eval/results/customer.json`` (the other sections are
``eval/customer_eval.py``'s). Without an LLM every would-be generated answer is a handoff with
``LLM_UNAVAILABLE``: the figures then measure the policy and the approved answers. The conversations
were written by the people who wrote the policy, so read them as a consistency check.

    python eval/customer_answers.py [--llm-url http://127.0.0.1:8101/v1]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "eval" / "results" / "customer.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--llm-url", default="", help="OpenAI-compatible /v1 URL; none: no LLM (handoffs)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "answers.json"
        command = [
            sys.executable,
            "-m",
            "server.customer.answering.evaluation",
            "--out",
            str(out),
            "--data-dir",
            tmp,
        ]
        if args.llm_url:
            command += ["--llm-url", args.llm_url]
        subprocess.run(command, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
        answers = json.loads(out.read_text(encoding="utf-8"))
    merged = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    merged["answers"] = {"llm": args.llm_url or "none", **answers}
    RESULTS.write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(json.dumps(merged["answers"], sort_keys=True)[:400])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
