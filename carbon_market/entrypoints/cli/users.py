"""``carbon-market users`` and ``tokens``: bootstrap commands, acting as the system operator
(whoever can run them already holds the database credentials)."""

from __future__ import annotations

import click

from carbon_market.kernel import cli
from carbon_market.kernel.access.roles import Role
from carbon_market.kernel.auth import service as auth_service


@click.group(help="Users and their roles.")
def users() -> None:
    pass


@users.command(
    "create",
    help="Create a user. The password is prompted for, or read from "
    "the first line of stdin when stdin is not a terminal.",
)
@click.argument("name")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--enterprise", "credit_code", help="Credit code (role enterprise only).")
@click.option(
    "--initiator/--no-initiator",
    default=None,
    help="Enterprise users: may initiate (default: yes).",
)
@click.option(
    "--approver/--no-approver", default=None, help="Enterprise users: may approve (default: yes)."
)
@cli.reports_errors
def users_create(
    name: str, role: str, credit_code: str | None, initiator: bool | None, approver: bool | None
) -> None:
    password = cli.read_password()
    with cli.session() as session:
        user = auth_service.create_user(
            session,
            cli.system_actor(),
            name=name,
            role=Role(role),
            password=password,
            enterprise_credit_code=credit_code,
            can_initiate=initiator,
            can_approve=approver,
        )
    click.echo(f"created user {user.name} ({user.role})")


@click.group(help="API tokens.")
def tokens() -> None:
    pass


@tokens.command("create", help="Issue an API token for user NAME and print it (shown once).")
@click.argument("name")
@click.option("--days", default=90, show_default=True, help="Days until the token expires.")
@click.option("--label", default="cli", show_default=True)
@cli.reports_errors
def tokens_create(name: str, days: int, label: str) -> None:
    with cli.session() as session:
        _record, token = auth_service.issue_token(
            session, cli.system_actor(), user_name=name, label=label, ttl_days=days
        )
    click.echo(token)


@tokens.command("revoke", help="Revoke the token with id TOKEN_ID.")
@click.argument("token_id", type=cli.ID)
@cli.reports_errors
def tokens_revoke(token_id: int) -> None:
    with cli.session() as session:
        auth_service.revoke_token(session, cli.system_actor(), token_id)
    click.echo(f"revoked token {token_id}")
