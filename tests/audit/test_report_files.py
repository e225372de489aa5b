"""report.json (the report with its verdict, read back exactly), provenance.json (W3C PROV-JSON,
read back by the ``prov`` library with the expected records) and write_report's three files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from prov.model import ProvDocument

from bcfl.audit.model import CheckResult
from bcfl.audit.report_files import read_report_json, report_json, write_report
from bcfl.audit.report_prov import provenance
from tests.audit.report_fixture import CHECKS, EVIL_NAME, h, sample_report


def _prov(content: str) -> ProvDocument:
    return ProvDocument.deserialize(content=content, format="json")


def _count(doc: ProvDocument, kind: str) -> int:
    return sum(1 for record in doc.get_records() if record.get_type().localpart == kind)


def test_write_report_writes_three_files(tmp_path: Path) -> None:
    report = sample_report()
    paths = write_report(report, tmp_path / "report")
    assert [p.name for p in (paths.html, paths.json, paths.provenance)] == [
        "report.html",
        "report.json",
        "provenance.json",
    ]
    assert sorted(p.name for p in (tmp_path / "report").iterdir()) == [
        "provenance.json",
        "report.html",
        "report.json",
    ]
    assert read_report_json(paths.json.read_text()) == report
    assert _prov(paths.provenance.read_text()).get_records()


def test_report_json_carries_the_verdict_and_reads_back() -> None:
    failed = CheckResult(name="lineage-unbroken", ok=False, problems=("round 2",), proves="x")
    report = sample_report(checks=(CHECKS[0], failed))
    content = report_json(report)
    fields = json.loads(content)
    assert list(fields)[:3] == ["schema_id", "verdict", "clean"]
    assert fields["verdict"] == "FAILED: 1 of 2 checks failed (lineage-unbroken)" and fields["clean"] is False
    assert fields["rounds"][0]["updates"][0]["member_name"] == EVIL_NAME
    assert read_report_json(content) == report
    with pytest.raises(ValueError, match="edited"):
        read_report_json(content.replace('"clean": false', '"clean": true'))


def test_provenance_reads_back_with_the_expected_records() -> None:
    """Entities: the lineage start, 5 updates, 2 aggregates (round 2's global is round 1's aggregate,
    one entity); 2 rounds; 3 hospitals and the coordinator. used: global + updates per round (4 + 3);
    associations: coordinator + senders (4 + 3); derivations: the aggregates from their participants'
    updates (3 + 2; member 3 is excluded in round 2 and sent nothing)."""
    doc = _prov(json.dumps(provenance(sample_report())))
    counts = {
        kind: _count(doc, kind)
        for kind in (
            "Entity",
            "Activity",
            "Agent",
            "Usage",
            "Generation",
            "Association",
            "Attribution",
            "Derivation",
        )
    }
    assert counts == {
        "Entity": 8,
        "Activity": 2,
        "Agent": 4,
        "Usage": 7,
        "Generation": 2,
        "Association": 7,
        "Attribution": 5,
        "Derivation": 5,
    }
    aggregate = doc.get_record(f"model:{h('agg1')}")[0]
    assert sorted(str(v) for v in aggregate.get_attribute("bcfl:role")) == ["aggregated", "global"]
    hospital = doc.get_record("dep:member-1")[0]
    assert {str(v) for v in hospital.get_attribute("bcfl:name")} == {EVIL_NAME}
    bundle_ns = {ns.prefix: ns.uri for ns in doc.get_registered_namespaces()}
    assert bundle_ns["dep"] == "urn:bcfl:chain:31337:registry:0x5FbDB2315678afecb367f032d93F642f64180aa3:"


def test_a_global_model_other_than_its_parents_aggregate_is_derived_from_it() -> None:
    doc = _prov(json.dumps(provenance(sample_report(round2_global=h("other")))))
    derivations = [r for r in doc.get_records() if r.get_type().localpart == "Derivation"]
    pairs = {(str(r.formal_attributes[0][1]), str(r.formal_attributes[1][1])) for r in derivations}
    assert (f"model:{h('other')}", f"model:{h('agg1')}") in pairs
    assert len(derivations) == 6 and _count(doc, "Entity") == 9
