"""Real FHIR clients from PyPI (fhirpy, SMART's fhirclient) and a
third-party JOSE library (PyJWT), used against a FHIR server as an
integrator would: a SMART Backend Services token, then CRUD, search,
paging, history, conditionals, transaction and $validate. Each step is one
assertion, printed as "ok - step" or "not ok - step: why"; the last line
counts them.

    FHIR_BASE=http://127.0.0.1:8080 CLIENT_ID=id CLIENT_KEY=key.pem \
        python clients.py
"""

import os
import sys
import time
import uuid

import jwt
import requests
from fhirclient import client as smart_client
from fhirclient.models.patient import Patient as SmartPatient
from fhirpy import SyncFHIRClient

BASE = os.environ["FHIR_BASE"]
CLIENT_ID = os.environ["CLIENT_ID"]
KEY = open(os.environ["CLIENT_KEY"], encoding="utf-8").read()
ALG = os.environ.get("CLIENT_ALG", "ES384")
SYSTEM = "https://example.org/client-suite"

passed = 0
failed = 0
state = {}


def step(name):
    """Runs the decorated function as one step."""

    def run(f):
        global passed, failed
        try:
            f()
            passed += 1
            print(f"ok - {name}")
        except Exception as e:  # noqa: BLE001 - a step's failure, whatever it is
            failed += 1
            print(f"not ok - {name}: {type(e).__name__}: {e}")
        return f

    return run


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def patient(family):
    return {
        "resourceType": "Patient",
        "identifier": [{"system": SYSTEM, "value": str(uuid.uuid4())}],
        "name": [{"family": family, "given": ["Python"]}],
        "birthDate": "1975-05-05",
    }


@step("PyJWT: a client assertion gets an access token")
def _token():
    conf = requests.get(f"{BASE}/.well-known/smart-configuration", timeout=30).json()
    token_url = conf["token_endpoint"]
    now = int(time.time())
    assertion = jwt.encode(
        {"iss": CLIENT_ID, "sub": CLIENT_ID, "aud": token_url, "jti": str(uuid.uuid4()),
         "iat": now, "exp": now + 240},
        KEY,
        algorithm=ALG,
    )
    r = requests.post(token_url, timeout=30, data={
        "grant_type": "client_credentials",
        "scope": "system/*.cruds",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion,
    })
    check(r.status_code == 200, f"{r.status_code} {r.text}")
    state["token"] = r.json()["access_token"]


fhir = SyncFHIRClient(BASE, authorization=f"Bearer {state.get('token', '')}")


@step("fhirpy: create")
def _create():
    p = fhir.resource("Patient", **patient("Pythonic"))
    p.save()
    check(p.id and p["meta"]["versionId"] == "1", dict(p.get("meta", {})))
    state["pid"] = p.id


@step("fhirpy: read by reference")
def _read():
    p = fhir.reference("Patient", state["pid"]).to_resource()
    check(p["name"][0]["family"] == "Pythonic", p["name"])


@step("fhirpy: update makes version 2")
def _update():
    p = fhir.reference("Patient", state["pid"]).to_resource()
    p["gender"] = "male"
    p.save()
    check(p["meta"]["versionId"] == "2", p["meta"])


@step("fhirpy: patch (a partial resource, which R4 does not define) is refused, nothing changed")
def _patch():
    try:
        fhir.patch("Patient", state["pid"], active=True)
        raise AssertionError("a partial-resource PATCH was accepted")
    except AssertionError:
        raise
    except Exception as e:  # noqa: BLE001 - fhirpy raises its OperationOutcome
        check(type(e).__name__ == "OperationOutcome", f"{type(e).__name__}: {e}")
    p = fhir.reference("Patient", state["pid"]).to_resource()
    check(p["meta"]["versionId"] == "2" and "active" not in p, p["meta"])


@step("fhirpy: search with paging (fetch_all follows next links)")
def _search():
    for _ in range(3):
        fhir.resource("Patient", **patient("Pypager")).save()
    found = fhir.resources("Patient").search(family="Pypager").limit(2).fetch_all()
    check(len(found) == 3, f"{len(found)} of 3")
    check(len({p.id for p in found}) == 3, "a Patient twice")


@step("fhirpy: count")
def _count():
    n = fhir.resources("Patient").search(family="Pypager").count()
    check(n == 3, n)


@step("fhirpy: get_or_create is conditional create")
def _get_or_create():
    body = patient("Pyconditional")
    value = body["identifier"][0]["value"]
    first, created = fhir.resources("Patient").search(identifier=f"{SYSTEM}|{value}").get_or_create(
        fhir.resource("Patient", **body))
    again, created_again = fhir.resources("Patient").search(identifier=f"{SYSTEM}|{value}").get_or_create(
        fhir.resource("Patient", **body))
    check(created and not created_again and first.id == again.id, (created, created_again))


@step("fhirpy: transaction")
def _transaction():
    u = f"urn:uuid:{uuid.uuid4()}"
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": u, "resource": patient("Pytransaction"), "request": {"method": "POST", "url": "Patient"}},
        {"resource": {"resourceType": "Flag", "status": "active", "code": {"text": "carer"},
                      "subject": {"reference": u}}, "request": {"method": "POST", "url": "Flag"}},
    ]}
    r = fhir.execute("", method="post", data=bundle)
    check(r["type"] == "transaction-response", r.get("type"))
    check(all(e["response"]["status"].startswith("201") for e in r["entry"]), r["entry"])


@step("fhirpy: $validate")
def _validate():
    oo = fhir.execute("Patient/$validate", method="post", data=patient("Pyvalid"))
    check(oo["resourceType"] == "OperationOutcome", oo)
    check(not [i for i in oo["issue"] if i["severity"] in ("error", "fatal")], oo["issue"])


@step("fhirpy: history")
def _history():
    h = fhir.execute(f"Patient/{state['pid']}/_history", method="get")
    check(h["type"] == "history" and len(h["entry"]) == 2, len(h.get("entry", [])))


smart = None


@step("fhirclient: prepare reads the CapabilityStatement and its OAuth endpoints")
def _prepare():
    global smart
    smart = smart_client.FHIRClient(settings={"app_id": CLIENT_ID, "api_base": BASE})
    smart.prepare()
    check(smart.server.auth is not None and smart.server.auth.auth_type == "oauth2",
          getattr(smart.server.auth, "auth_type", None))
    check(smart.server.capabilityStatement.fhirVersion == "4.0.1", "fhirVersion")
    smart.server.auth.access_token = state["token"]


@step("fhirclient: read into the R4 models")
def _smart_read():
    p = SmartPatient.read(state["pid"], smart.server)
    check(p.name[0].family == "Pythonic", p.name[0].family)


@step("fhirclient: search into the R4 models")
def _smart_search():
    found = SmartPatient.where(struct={"family": "Pypager"}).perform_resources(smart.server)
    check(len(found) == 3, len(found))


@step("fhirclient: create from the R4 models")
def _smart_create():
    p = SmartPatient(patient("Smartie"))
    r = p.create(smart.server)
    check(r is not None and r.get("id"), r)


@step("fhirpy: delete, then the read is gone")
def _delete():
    fhir.delete("Patient", state["pid"])
    r = requests.get(f"{BASE}/Patient/{state['pid']}", timeout=30,
                     headers={"Authorization": f"Bearer {state['token']}"})
    check(r.status_code == 410, r.status_code)


print(f"pypi: {passed} passed, {failed} failed")
sys.exit(0 if failed == 0 else 1)
