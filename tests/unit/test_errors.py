"""Problem details bodies and the flattening of marshmallow errors into JSON pointers."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError

from carbon_market.emitters.schemas import ContactsUpdateSchema
from carbon_market.kernel.errors import (
    HTTP_PROBLEMS,
    Conflict,
    DomainError,
    FieldError,
    InvalidStatusTransition,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    RuleViolation,
    ValidationFailed,
    marshmallow_errors,
    pointer_token,
    problem,
)

# --- problem() ------------------------------------------------------------------------------


def test_problem_has_exactly_the_rfc_9457_members_when_no_options_are_given():
    body = problem(404, "not-found", "Not found", "no such enterprise")
    assert body == {
        "type": "/api/problems/not-found",
        "title": "Not found",
        "status": 404,
        "detail": "no such enterprise",
    }


def test_problem_carries_instance_errors_request_id_and_extra_when_given():
    body = problem(
        422,
        "validation-failed",
        "Validation failed",
        "2 fields are invalid",
        instance="/api/enterprises",
        errors=[
            FieldError("#/name", "Missing data for required field."),
            FieldError("#/enterprises/rows/3/sector", "bad", code="x.y", row=3, column="sector"),
        ],
        request_id="req-1",
        extra={"retry_after": 30},
    )
    assert body["instance"] == "/api/enterprises"
    assert body["request_id"] == "req-1"
    assert body["retry_after"] == 30
    assert body["errors"] == [
        {"pointer": "#/name", "detail": "Missing data for required field."},
        {
            "pointer": "#/enterprises/rows/3/sector",
            "detail": "bad",
            "code": "x.y",
            "row": 3,
            "column": "sector",
        },
    ]


def test_problem_omits_errors_member_when_error_list_is_empty():
    body = problem(400, "bad-request", "Bad request", "x", errors=[], request_id=None)
    assert "errors" not in body
    assert "request_id" not in body
    assert "instance" not in body


def test_field_error_keeps_row_zero_when_serialised():
    # ``is not None``, not truthiness, decides: a zero must not vanish.
    assert FieldError("#/rows/0", "bad", row=0).as_dict()["row"] == 0


def test_field_error_names_the_sheet_of_a_workbook_cell_only_when_given():
    error = FieldError("#/streams/rows/5/unit", "bad", row=5, column="unit", sheet="streams")
    assert error.as_dict() == {
        "pointer": "#/streams/rows/5/unit",
        "detail": "bad",
        "sheet": "streams",
        "row": 5,
        "column": "unit",
    }
    assert "sheet" not in FieldError("#/rows/5/unit", "bad", row=5, column="unit").as_dict()


@pytest.mark.parametrize(
    "error_class",
    [NotAuthenticated, PermissionDenied, NotFound, Conflict, ValidationFailed],
)
def test_exception_slug_matches_the_http_problem_table_when_status_is_shared(
    error_class: type[DomainError],
):
    assert HTTP_PROBLEMS[error_class.status] == (error_class.slug, error_class.title)


def test_status_transition_error_is_a_422_rule_violation_with_its_own_slug():
    assert issubclass(InvalidStatusTransition, RuleViolation)
    assert InvalidStatusTransition.status == 422
    assert InvalidStatusTransition.slug == "invalid-status-transition"


def test_domain_error_copies_errors_and_extra_when_the_caller_mutates_its_lists():
    errors = [FieldError("#/a", "bad")]
    extra = {"k": 1}
    exc = DomainError("detail", errors=errors, extra=extra)
    errors.append(FieldError("#/b", "bad"))
    extra["k"] = 2
    assert exc.errors == [FieldError("#/a", "bad")]
    assert exc.extra == {"k": 1}
    assert str(exc) == "detail"


# --- marshmallow_errors ----------------------------------------------------------------------


def _pairs(messages: object, prefix: str = "#") -> list[tuple[str, str]]:
    return [(e.pointer, e.detail) for e in marshmallow_errors(messages, prefix)]


def test_flat_field_messages_become_one_pointer_each_when_flattened():
    assert _pairs({"name": ["Missing."], "sector": ["Bad.", "Too long."]}) == [
        ("#/name", "Missing."),
        ("#/sector", "Bad."),
        ("#/sector", "Too long."),
    ]


def test_nested_list_indexes_become_pointer_segments_when_flattened():
    messages = {"contacts": {1: {"name": ["Missing."], "phone": ["Bad phone."]}}}
    assert _pairs(messages) == [
        ("#/contacts/1/name", "Missing."),
        ("#/contacts/1/phone", "Bad phone."),
    ]


def test_schema_level_errors_point_at_the_parent_when_key_is_underscore_schema():
    messages = {"_schema": ["Invalid input type."], "contacts": {0: {"_schema": ["Nope."]}}}
    assert _pairs(messages) == [("#", "Invalid input type."), ("#/contacts/0", "Nope.")]


def test_bare_string_message_becomes_one_error_when_not_wrapped_in_a_list():
    assert _pairs("Invalid.") == [("#", "Invalid.")]


def test_dicts_inside_lists_are_flattened_under_the_same_pointer_when_mixed():
    assert _pairs({"rows": ["Too many.", {"x": ["Bad."]}]}) == [
        ("#/rows", "Too many."),
        ("#/rows/x", "Bad."),
    ]


def test_pointer_starts_at_the_given_prefix_when_one_is_passed():
    assert _pairs({"sector": ["Bad."]}, prefix="#/enterprises/rows/3") == [
        ("#/enterprises/rows/3/sector", "Bad.")
    ]


def test_slash_and_tilde_are_escaped_when_a_key_contains_them():
    # RFC 6901: "~" -> "~0" and "/" -> "~1", otherwise "a/b" would point two levels deep.
    assert _pairs({"a/b": ["Unknown field."], "c~d": ["Unknown field."]}) == [
        ("#/a~1b", "Unknown field."),
        ("#/c~0d", "Unknown field."),
    ]


def test_pointer_token_escapes_tilde_before_slash_when_both_appear():
    assert pointer_token("~/") == "~0~1"
    assert pointer_token(3) == "3"


def test_real_schema_errors_flatten_to_row_pointers_when_a_nested_item_is_invalid():
    with pytest.raises(ValidationError) as info:
        ContactsUpdateSchema().load(
            {"contacts": [{"name": "王工"}, {"phone": "call me"}], "notes": "x"}
        )
    pointers = sorted(_pairs(info.value.messages))
    assert pointers == [
        ("#/contacts/1/name", "Missing data for required field."),
        ("#/contacts/1/phone", "is not a phone number"),
        ("#/notes", "Unknown field."),
    ]
