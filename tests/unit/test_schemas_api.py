"""The public API of schemas: examples validate, each removed required item is reported, lookups fail clearly."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

import schemas
from schemas import CONTEXT_URL, CREDENTIAL_TYPES, UnknownEntry, example, load_schema, schema_errors

EXAMPLES = {
    "labor-contract-part-time": "LaborContractCredential",
    "career-record": "CareerRecordCredential",
    "career-certificate": "CareerCertificateCredential",
}


def delete(doc: dict[str, Any], path: str) -> dict[str, Any]:
    """A copy of doc without the dotted path."""
    doc = copy.deepcopy(doc)
    *parents, leaf = path.split(".")
    node = doc
    for p in parents:
        node = node[p]
    del node[leaf]
    return doc


def test_package_data_is_installed() -> None:
    root = Path(schemas.__file__).parent
    for sub in (
        "contexts/workcred-v1.jsonld",
        "rules/minimum-wage.json",
        "labels/ko.json",
        "templates/minor.json",
    ):
        assert (root / sub).is_file()
    assert set(CREDENTIAL_TYPES) == {p.stem for p in (root / "json").glob("*.json")}


@pytest.mark.parametrize(("name", "credential_type"), EXAMPLES.items())
def test_examples_validate(name: str, credential_type: str) -> None:
    doc = example(name)
    assert credential_type in doc["type"]
    assert doc["@context"][:2] == ["https://www.w3.org/ns/credentials/v2", CONTEXT_URL]
    assert schema_errors(doc) == []
    assert load_schema(credential_type)["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def leaves(node: Any) -> int:
    if isinstance(node, dict):
        return sum(leaves(v) for v in node.values())
    if isinstance(node, list):
        return sum(leaves(v) for v in node)
    return 1


def test_part_time_example_shape() -> None:
    doc = example("labor-contract-part-time.json")
    assert leaves(doc["credentialSubject"]) >= 25
    assert doc["issuer"] == "did:web:127.0.0.1%3A8700:issuers:seoul-digital-policy"
    assert re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", doc["id"])
    assert doc["credentialStatus"]["type"] == "BitstringStatusListEntry"
    assert "proof" not in doc
    assert schemas.check_contract(doc["credentialSubject"]) == []


def test_example_returns_a_fresh_copy() -> None:
    example("career-record")["credentialSubject"]["position"] = "changed"
    assert example("career-record")["credentialSubject"]["position"] != "changed"


LABOR_REQUIRED = [
    "id",
    "type",
    "contractType",
    "project",
    "project.id",
    "project.name",
    "employer",
    "employer.id",
    "employer.name",
    "employer.representative",
    "employer.address",
    "employee",
    "employee.name",
    "employee.birthDate",
    "contractPeriod",
    "contractPeriod.startDate",
    "contractPeriod.endDate",
    "workplace",
    "duties",
    "workingHours",
    "workingHours.startTime",
    "workingHours.endTime",
    "workingHours.breakMinutes",
    "workingHours.dailyHours",
    "workingHours.weeklyHours",
    "workingDays",
    "workingDays.daysPerWeek",
    "workingDays.days",
    "workingDays.weeklyHoliday",
    "dailySchedule",
    "wage",
    "wage.type",
    "wage.amount",
    "wage.currency",
    "wage.bonus",
    "wage.bonus.paid",
    "wage.allowances",
    "wage.payday",
    "wage.paymentMethod",
    "wage.overtimeRate",
    "annualLeave",
    "socialInsurance",
    "socialInsurance.nationalPension",
    "socialInsurance.healthInsurance",
    "socialInsurance.employmentInsurance",
    "socialInsurance.industrialAccidentInsurance",
    "contractDelivery",
]


@pytest.mark.parametrize("path", LABOR_REQUIRED)
def test_each_removed_labor_contract_item_is_reported(path: str) -> None:
    doc = delete(example("labor-contract-part-time"), f"credentialSubject.{path}")
    *parents, leaf = path.split(".")
    where = "$.credentialSubject" + "".join(f".{p}" for p in parents)
    assert f"{where}: '{leaf}' is a required property" in schema_errors(doc)


@pytest.mark.parametrize("path", ["@context", "id", "type", "issuer", "validFrom", "credentialSubject"])
def test_each_removed_envelope_item_is_reported(path: str) -> None:
    doc = delete(example("career-record"), path)
    errors = schema_errors(doc)
    assert any(f"'{path}'" in e for e in errors) or errors == [
        "$.type: must contain one of " + ", ".join(CREDENTIAL_TYPES)
    ]


@pytest.mark.parametrize(
    "path",
    [
        "employee.birthDate",
        "employer.id",
        "project.id",
        "employmentPeriod.endDate",
        "duties",
        "position",
        "wage.amount",
        "contract",
    ],
)
def test_each_removed_career_record_item_is_reported(path: str) -> None:
    doc = delete(example("career-record"), f"credentialSubject.{path}")
    leaf = path.split(".")[-1]
    assert any(e.endswith(f"'{leaf}' is a required property") for e in schema_errors(doc))


def test_conditional_requirements_per_contract_type() -> None:
    doc = example("labor-contract-part-time")
    s = doc["credentialSubject"]
    s["contractType"] = "regular"
    assert schema_errors(doc) == [
        "$.credentialSubject.contractPeriod: False schema does not allow '2026-11-30'"
    ]
    del s["contractPeriod"]["endDate"], s["dailySchedule"]
    assert schema_errors(doc) == []
    s["contractType"] = "minor"
    assert schema_errors(doc) == ["$.credentialSubject: 'guardianConsent' is a required property"]
    s["contractType"] = "part-time"
    s["wage"]["overtimeRate"] = 1.25
    errors = schema_errors(doc)
    assert "$.credentialSubject: 'dailySchedule' is a required property" in errors
    assert "$.credentialSubject.contractPeriod: 'endDate' is a required property" in errors
    assert "$.credentialSubject.wage.overtimeRate: 1.25 is less than the minimum of 1.5" in errors


def test_typos_dates_and_times_are_rejected() -> None:
    doc = example("labor-contract-part-time")
    s = doc["credentialSubject"]
    s["wage"]["amout"] = 1
    s["contractPeriod"]["startDate"] = "2026-02-30"
    s["workingHours"]["startTime"] = "9:00"
    s["employee"]["residentNumber"] = "000000-0000000"  # PIPA art. 24-2: never in a contract
    errors = "\n".join(schema_errors(doc))
    assert (
        "$.credentialSubject.wage: Additional properties are not allowed ('amout' was unexpected)" in errors
    )
    assert "$.credentialSubject.contractPeriod.startDate: '2026-02-30' is not a 'date'" in errors
    assert "$.credentialSubject.workingHours.startTime: '9:00' does not match" in errors
    assert "'residentNumber' was unexpected" in errors


def test_context_order_and_types() -> None:
    doc = example("career-record")
    doc["@context"].reverse()
    assert "$['@context'][0]: 'https://www.w3.org/ns/credentials/v2' was expected" in schema_errors(doc)
    doc = example("career-record")
    doc["@context"].append({"@vocab": "https://example.org/#"})  # inline contexts are not allowed
    assert any(e.startswith("$['@context'][2]") for e in schema_errors(doc))
    assert schema_errors({"type": ["VerifiableCredential"]}) == [
        "$.type: must contain one of " + ", ".join(CREDENTIAL_TYPES)
    ]
    assert schema_errors([]) == ["$: a credential must be a JSON object"]


def test_career_certificate_holds_only_chosen_items() -> None:
    doc = example("career-certificate")
    s = doc["credentialSubject"]
    for item in ("project", "employmentPeriod", "duties", "purpose"):
        del s[item]
    assert schema_errors(doc) == [
        "$.credentialSubject: {'id': 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK', "
        "'type': 'CareerCertificate', 'employee': {'name': '홍길동'}, 'employer': "
        "{'id': 'did:web:127.0.0.1%3A8700:issuers:seoul-digital-policy', "
        "'name': '서울특별시 디지털정책과'}} is not valid under any of the given schemas"
    ]
    s["records"] = [
        {"position": "데이터 서포터즈"},
        {"wage": {"type": "daily", "amount": 90000, "currency": "KRW"}},
    ]
    assert schema_errors(doc) == []
    s["records"].append({})
    assert schema_errors(doc) == [
        "$.credentialSubject.records[2]: {} is not valid under any of the given schemas"
    ]
    s["records"].pop()
    s["contract"] = "urn:uuid:x"  # a career certificate carries only LSA art. 39 items
    assert schema_errors(doc) == [
        "$.credentialSubject: Additional properties are not allowed ('contract' was unexpected)"
    ]


def test_status_and_proof_shapes() -> None:
    doc = example("labor-contract-part-time")
    doc["credentialStatus"]["statusListIndex"] = 4821
    doc["proof"] = [{"type": "DataIntegrityProof"}, {"no": "type"}]
    errors = schema_errors(doc)
    assert "$.credentialStatus.statusListIndex: 4821 is not of type 'string'" in errors
    assert "$.proof[1]: 'type' is a required property" in errors


def test_lookups_fail_clearly() -> None:
    with pytest.raises(UnknownEntry, match="no schema for credential type 'Foo'"):
        load_schema("Foo")
    with pytest.raises(UnknownEntry, match="no contract template 'daily'"):
        schemas.template("daily")
    with pytest.raises(UnknownEntry, match="no labels for language 'fr'"):
        schemas.labels("fr")
    with pytest.raises(UnknownEntry, match="no example 'nope'") as info:
        example("nope")
    assert "예시가 없습니다" in info.value.message_ko


@pytest.mark.parametrize("variant", schemas.VARIANTS)
def test_templates_follow_the_standard_form(variant: str) -> None:
    t = schemas.template(variant)
    assert t["contractType"] == variant == t["defaults"]["contractType"]
    numbers = [s["number"] for s in t["sections"]]
    assert numbers == list(range(1, len(numbers) + 1))
    keys = [s["key"] for s in t["sections"]]
    assert keys[:10] == [
        "contractPeriod",
        "workplace",
        "duties",
        "workingHours",
        "workingDays",
        "wage",
        "annualLeave",
        "socialInsurance",
        "contractDelivery",
        "goodFaith",
    ]
    assert keys[-1] == "otherTerms"
    ko = schemas.labels("ko")
    for section in t["sections"]:
        assert section["title"]["ko"] and section["title"]["en"]
        for field in section["fields"]:
            assert field in ko, field
    for field in t["participantFields"]:
        assert field["path"] in ko and field["column"] and field["columnEn"]
    assert {f["path"] for f in t["participantFields"]}.isdisjoint(
        set(t["projectFields"]) - {"workplace", "duties"}
    )


def test_schema_files_are_valid_draft_2020_12() -> None:
    from jsonschema import Draft202012Validator

    for t in CREDENTIAL_TYPES:
        Draft202012Validator.check_schema(load_schema(t))
    root = Path(schemas.__file__).parent
    for path in root.rglob("*.json*"):
        json.loads(path.read_text("utf-8"))
