"""The document is built from the records: bodies lack the path's ids, parameters carry the
records' constraints."""

from __future__ import annotations

from tally.api.openapi import OPERATIONS, openapi_document


def test_a_request_body_is_its_record_less_the_path_ids() -> None:
    document = openapi_document()
    schemas = document["components"]["schemas"]
    put_line = document["paths"]["/v1/admin/tenants/{tenant}/lines/{line}"]["put"]

    assert put_line["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/LineBody"
    }
    assert set(schemas["LineBody"]["properties"]) == {"site", "name"}
    assert schemas["LineBody"]["required"] == ["site", "name"]
    assert set(schemas["Line"]["properties"]) == {"tenant", "line", "site", "name"}
    assert [p["name"] for p in put_line["parameters"]] == ["tenant", "line"]
    assert put_line["parameters"][0]["schema"]["pattern"] == "^[a-z0-9][a-z0-9_-]{0,63}$"
    assert set(put_line["responses"]) == {
        "200",
        "400",
        "401",
        "404",
        "409",
        "413",
        "415",
        "422",
        "503",
    }


def test_every_operation_needs_the_admin_token_and_answers_problems() -> None:
    document = openapi_document()

    for op in OPERATIONS:
        described = document["paths"][op.path][op.method]
        assert described["security"] == [{"adminToken": []}]
        assert "401" in described["responses"]
        # Every route needs the database, so every one can be 503.
        assert "Retry-After" in described["responses"]["503"]["headers"]
    article = document["components"]["schemas"]["ArticleView"]
    assert {"tne_g", "t1_g", "t2_g", "nominal_g"} <= set(article["properties"])
