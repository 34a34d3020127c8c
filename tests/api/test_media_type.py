"""A body that is not JSON (or a multipart upload) is refused with 415, not misread."""

from __future__ import annotations

from sqlalchemy import func, select

from carbon_market.emitters.models import Enterprise
from tests.factories import credit_code


def test_plain_text_body_is_refused_with_415_problem_and_nothing_is_registered(
    client, auth, regulator, session
):
    before = session.scalar(select(func.count()).select_from(Enterprise))
    body = (
        f'{{"credit_code": "{credit_code()}", "name": "x", "sector": "power", "district": "bda"}}'
    )

    response = client.post(
        "/api/v1/enterprises", data=body, content_type="text/plain", headers=auth.headers(regulator)
    )

    assert response.status_code == 415
    assert response.content_type == "application/problem+json"
    assert response.json["type"] == "/api/problems/unsupported-media-type"
    assert "text/plain" in response.json["detail"]
    assert session.scalar(select(func.count()).select_from(Enterprise)) == before


def test_json_with_a_vendor_suffix_is_accepted_as_json(client, auth, regulator):
    body = (
        f'{{"credit_code": "{credit_code()}", "name": "甲", "sector": "power", "district": "bda"}}'
    )

    response = client.post(
        "/api/v1/enterprises",
        data=body,
        content_type="application/merge-patch+json",
        headers=auth.headers(regulator),
    )

    # Accepted as a JSON body (webargs reads any +json type), so the enterprise is created.
    assert response.status_code == 201


def test_a_post_without_a_body_needs_no_content_type(client, auth, regulator):
    response = client.post("/api/v1/enterprises", headers=auth.headers(regulator))

    # Not a media-type problem: the body is simply missing its required fields.
    assert response.status_code == 422
