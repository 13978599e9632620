"""Every error a person can see: Spanish `detail`, stable `code`, the same shape on every status."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import FastAPI, Query
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict, Field, model_validator

from common.errors import Conflict, NotFound, TooManyRequests, install_error_handlers
from common.validation_messages import InvalidValue


class PetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=5)
    weight_kg: float = Field(gt=0)


def make_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/pets")
    def create(pet_in: PetIn, owner_id: Annotated[int, Query(ge=1)]):
        return pet_in

    @app.get("/missing")
    def missing():
        raise NotFound("No existe la mascota 7.", code="pet_not_found")

    @app.get("/busy")
    def busy():
        raise TooManyRequests("Tienes demasiados trabajos en cola.", retry_after=30, code="job_quota")

    @app.get("/taken")
    def taken():
        raise Conflict("Ese nombre ya está en uso.")

    return app


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(make_app())


def test_a_domain_error_keeps_its_message_and_code(client):
    response = client.get("/missing")
    assert response.status_code == 404
    assert response.json() == {"detail": "No existe la mascota 7.", "code": "pet_not_found"}


def test_a_domain_error_without_a_code_gets_its_class_default(client):
    assert client.get("/taken").json() == {"detail": "Ese nombre ya está en uso.", "code": "conflict"}


def test_a_limit_says_when_to_come_back(client):
    response = client.get("/busy")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "30"
    assert response.json()["code"] == "job_quota"


def test_framework_errors_are_spanish_too(client):
    unknown = client.get("/no-such-route")
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "No existe lo que buscas en esta dirección.", "code": "not_found"}
    wrong_method = client.delete("/missing")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["code"] == "method_not_allowed"


def test_validation_errors_name_each_field_in_spanish(client):
    response = client.post("/pets?owner_id=0", json={"name": "Bartolomé", "weight_kg": -1, "color": "gris"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    messages = {error["field"]: error["message"] for error in body["errors"]}
    assert messages == {
        "owner_id": "«owner_id» debe ser mayor o igual que 1",
        "name": "«name» puede tener como mucho 5 caracteres",
        "weight_kg": "«weight_kg» debe ser mayor que 0",
        "color": "«color» no es un campo admitido aquí",
    }
    assert body["detail"].startswith("Datos no válidos: ")
    assert ["query", "owner_id"] in [error["loc"] for error in body["errors"]]


def test_a_missing_body_and_a_broken_json_are_explained(client):
    missing = client.post("/pets?owner_id=1")
    assert missing.json()["detail"] == "Dato no válido: falta el cuerpo de la petición."
    broken = client.post("/pets?owner_id=1", content=b'{"name": ', headers={"content-type": "application/json"})
    assert broken.status_code == 422
    assert broken.json()["errors"][0]["code"] == "json_invalid"
    assert "JSON" in broken.json()["detail"]



class PriceIn(BaseModel):
    percentage: float | None = None
    items: list[str] | None = None

    @model_validator(mode="after")
    def one_of(self):
        if self.percentage is not None and self.items is not None:
            raise InvalidValue("indica «items» o «percentage», no los dos")
        return self


def test_our_own_validators_speak_for_themselves():
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/prices")
    def prices(price_in: PriceIn):
        return price_in

    response = TestClient(app).post("/prices", json={"percentage": 5, "items": ["A"]})
    assert response.json()["detail"] == "Dato no válido: indica «items» o «percentage», no los dos."
