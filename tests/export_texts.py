"""The report texts the repository ships as exports (the demo's and the import fixtures'),
for tests that hold a rewritten text rule to the one it replaces."""

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def shipped_export_texts() -> list[str]:
    exports = ROOT / "tests" / "fixtures" / "exports"
    texts = []
    for path in (ROOT / "generation/data/demo/export.jsonl", exports / "reports_crlf.jsonl"):
        lines = path.read_text(encoding="utf-8").splitlines()
        texts += [json.loads(line)["text"] for line in lines if line.strip()]
    texts.append((exports / "report_utf8bom.txt").read_text(encoding="utf-8-sig"))
    texts.append((exports / "report_cp1252.txt").read_text(encoding="cp1252"))
    texts.append((exports / "reports_latin1.csv").read_text(encoding="latin-1"))
    return texts
