"""The report's three files: ``report.html`` (to read and file), ``report.json`` (the complete
report with its verdict) and ``provenance.json`` (the lineage in W3C PROV-JSON)."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bcfl.audit.model import AuditReport
from bcfl.audit.report_html import render_html
from bcfl.audit.report_prov import provenance

logger = logging.getLogger(__name__)

REPORT_HTML = "report.html"
REPORT_JSON = "report.json"
PROVENANCE_JSON = "provenance.json"
#: Fields ``report.json`` adds to the model's own: derived from the checks, dropped when read back.
DERIVED_FIELDS = ("verdict", "clean")


@dataclass(frozen=True)
class ReportPaths:
    html: Path
    json: Path
    provenance: Path


def report_json(report: AuditReport) -> str:
    """The report as JSON: its schema id, then its verdict and whether it is clean, then every field."""
    fields: dict[str, Any] = json.loads(report.model_dump_json())
    head = {"schema_id": fields.pop("schema_id"), "verdict": report.verdict, "clean": report.clean}
    return json.dumps(head | fields, indent=2) + "\n"


def read_report_json(content: str) -> AuditReport:
    """An :class:`AuditReport` from ``report.json`` (its derived fields checked, then dropped)."""
    fields = json.loads(content)
    derived = {name: fields.pop(name, None) for name in DERIVED_FIELDS}
    report = AuditReport.model_validate(fields)
    if derived != {"verdict": report.verdict, "clean": report.clean}:
        raise ValueError("report.json's verdict does not follow from its checks: the file was edited")
    return report


def _write(path: Path, content: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(content, encoding="utf-8")
    os.replace(partial, path)


def write_report(report: AuditReport, out_dir: Path) -> ReportPaths:
    """Write the three files into ``out_dir`` (created); nothing is written if the page cannot be made."""
    page = render_html(report)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = ReportPaths(out_dir / REPORT_HTML, out_dir / REPORT_JSON, out_dir / PROVENANCE_JSON)
    _write(paths.html, page)
    _write(paths.json, report_json(report))
    _write(paths.provenance, json.dumps(provenance(report), indent=2) + "\n")
    logger.info("audit report of rounds %d-%d written to %s", report.from_round, report.to_round, out_dir)
    return paths
