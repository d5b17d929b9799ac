"""`botctl x`: set the bot's X account up from the command line, and check it when something breaks.

    botctl x whoami                          the account's numeric id and handle (for BOT_USER_ID=)
    botctl x webhook register URL            register the deployed webhook (X checks it with a CRC)
    botctl x webhook list                    the app's webhooks, and whether X finds them valid
    botctl x webhook validate ID             ask X for a new CRC check (re-enables a failed webhook)
    botctl x webhook delete ID               remove it (tear-down)
    botctl x subscribe ID                    Account Activity: deliver the account's events to it
    botctl x subscriptions ID                the accounts subscribed to a webhook
    botctl x unsubscribe ID                  stop delivering the account's events
                                             (the three also as `botctl x webhook subscribe ID` ...)
    botctl x activity subscribe ID           X Activity: the mention and reply events the bot answers
    botctl x activity list                   the app's X Activity subscriptions
    botctl x activity delete SUBSCRIPTION    remove one
    botctl x post-test                       one post from the account, to prove the write keys

Credentials: from the environment (TWITTER_API_KEY, TWITTER_API_SECRET, TWITTER_ACCESS_TOKEN,
TWITTER_ACCESS_TOKEN_SECRET, optionally TWITTER_BEARER_TOKEN), or from the deployed secret with
--secret-name (or TWITTER_SECRET_NAME), read with your AWS credentials. Without a bearer token the
app-only calls get one from X with the app's key and secret. No value of a credential is printed.

What the user types (a URL, an id, an event type, a tag) is checked before any credential is read or
call made. X's refusals come back as one line on stderr and exit status 1. The X calls live in
botlocal.x_setup, imported inside the commands (it loads requests).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import TYPE_CHECKING, Any, cast

import click

if TYPE_CHECKING:
    from botlocal.x_setup import XSetupClient


_CREDENTIALS_HELP = (
    "Credentials: TWITTER_API_KEY, TWITTER_API_SECRET, TWITTER_ACCESS_TOKEN, TWITTER_ACCESS_TOKEN_SECRET "
    "(and optionally TWITTER_BEARER_TOKEN) from the environment, or the deployed secret's JSON document "
    "with --secret-name."
)


def credentials_options[F: Callable[..., Any]](function: F) -> F:
    """--secret-name and --region, on every command that calls X."""
    function = click.option(
        "--region",
        default=None,
        help="The secret's AWS region [default: your AWS configuration's, AWS_REGION].",
    )(function)
    return click.option(
        "--secret-name",
        envvar="TWITTER_SECRET_NAME",
        default=None,
        metavar="NAME",
        help="Read the X credentials from this Secrets Manager secret (the deployed bot's, e.g. "
        "TwitterSecret) instead of the environment [env: TWITTER_SECRET_NAME].",
    )(function)


def _client(secret_name: str | None, region: str | None) -> XSetupClient:
    from botlocal.x_setup import XSetupClient, credentials_from_environment, credentials_from_secret

    credentials = credentials_from_secret(secret_name, region) if secret_name else credentials_from_environment()
    return XSetupClient(credentials)


def reports_x_errors[F: Callable[..., Any]](command: F) -> F:
    """X's refusal (an XSetupError) from the command becomes click's one-line error (exit status 1),
    with no traceback."""

    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        from botlocal.x_setup import XSetupError

        try:
            return command(*args, **kwargs)
        except XSetupError as error:
            raise click.ClickException(str(error)) from None

    return cast("F", run)


def _checked_id(value: str, what: str = "webhook") -> str:
    """The id, or the one-line refusal (an XSetupError) before any credential is read or call made."""
    from botlocal.x_setup import checked_id

    return checked_id(value, what)


def _table(columns: list[str], rows: list[list[Any]]) -> str:
    from botlocal.render import render

    return render(columns, rows, "table")


@click.group(
    help="Set the bot's X account up: webhook, subscriptions, a test post.\n\n"
    "\b\nOnce, in this order:\n"
    "  botctl x whoami                      the id for `make deploy BOT_USER_ID=`\n"
    "  botctl x webhook register URL        after the deploy: the stack's webhook URL\n"
    "  botctl x activity subscribe ID       X Activity (or: botctl x subscribe ID, Account Activity)\n"
    "When nothing arrives: botctl x webhook list / validate ID.\n"
    "Tear-down: botctl x activity delete SUB / unsubscribe ID, then botctl x webhook delete ID.\n\n"
    f"{_CREDENTIALS_HELP}"
)
def x() -> None:
    pass


@x.command()
@credentials_options
@reports_x_errors
def whoami(secret_name: str | None, region: str | None) -> None:
    """The account's numeric id and handle (GET /2/users/me), for `make deploy BOT_USER_ID=`."""
    client = _client(secret_name, region)
    account = client.me()
    click.echo(f"id        {account['id']}")
    click.echo(f"username  @{account.get('username', '?')}")
    click.echo(f"name      {account.get('name', '')}")
    user_id = account["id"]
    click.echo(
        f"deploy with: make deploy BOT_USER_ID={user_id} (CDK: -c botUserId={user_id}; locally: BOT_USER_ID={user_id})"
    )


@x.group()
def webhook() -> None:
    """The app's webhooks (X API v2 /2/webhooks, app-only)."""


@webhook.command("register")
@click.argument("url")
@credentials_options
@reports_x_errors
def webhook_register(url: str, secret_name: str | None, region: str | None) -> None:
    """Register URL (the deployed stack's webhook: https, no port); X checks it with a CRC at once."""
    from botlocal.x_setup import checked_webhook_url

    url = checked_webhook_url(url)
    client = _client(secret_name, region)
    hook = client.register_webhook(url)
    click.echo(f"registered webhook {hook['id']} for {hook.get('url', url)} (valid: {_yes_no(hook.get('valid'))})")
    click.echo(f"next: `botctl x subscribe {hook['id']}` or `botctl x activity subscribe {hook['id']}`")


@webhook.command("list")
@credentials_options
@reports_x_errors
def webhook_list(secret_name: str | None, region: str | None) -> None:
    """The app's webhooks, and whether each passed X's last CRC check."""
    client = _client(secret_name, region)
    hooks = client.webhooks()
    if not hooks:
        click.echo("no webhooks registered for this app")
        return
    rows = [[hook.get("id"), hook.get("url"), _yes_no(hook.get("valid")), hook.get("created_at")] for hook in hooks]
    click.echo(_table(["id", "url", "valid", "created_at"], rows))


@webhook.command("validate")
@click.argument("webhook_id", metavar="ID")
@credentials_options
@reports_x_errors
def webhook_validate(webhook_id: str, secret_name: str | None, region: str | None) -> None:
    """Ask X for a new CRC check of webhook ID (it re-enables a webhook that failed one)."""
    webhook_id = _checked_id(webhook_id)
    client = _client(secret_name, region)
    if not client.validate_webhook(webhook_id):
        raise click.ClickException(
            f"CRC failed: X still finds webhook {webhook_id} invalid: check the deployed stack (or the tunnel to "
            "`chalice local`) and that its secret holds this app's ApiSecret"
        )
    click.echo(f"webhook {webhook_id} is valid: X's CRC check passed")


@webhook.command("delete")
@click.argument("webhook_id", metavar="ID")
@credentials_options
@reports_x_errors
def webhook_delete(webhook_id: str, secret_name: str | None, region: str | None) -> None:
    """Delete webhook ID (tear-down; its subscriptions stop delivering)."""
    webhook_id = _checked_id(webhook_id)
    client = _client(secret_name, region)
    client.delete_webhook(webhook_id)
    click.echo(f"deleted webhook {webhook_id}")


@x.command()
@click.argument("webhook_id", metavar="ID")
@credentials_options
@reports_x_errors
def subscribe(webhook_id: str, secret_name: str | None, region: str | None) -> None:
    """Account Activity: deliver the account's events to webhook ID (signed as the account)."""
    webhook_id = _checked_id(webhook_id)
    client = _client(secret_name, region)
    if client.subscribe(webhook_id):
        click.echo(f"subscribed: the account's Account Activity events go to webhook {webhook_id}")
    else:
        click.echo(f"already subscribed to webhook {webhook_id}")


@x.command()
@click.argument("webhook_id", metavar="ID")
@credentials_options
@reports_x_errors
def subscriptions(webhook_id: str, secret_name: str | None, region: str | None) -> None:
    """Account Activity: the accounts whose events go to webhook ID."""
    webhook_id = _checked_id(webhook_id)
    client = _client(secret_name, region)
    listing = client.subscriptions(webhook_id)
    users = [item.get("user_id") for item in listing.get("subscriptions") or [] if isinstance(item, dict)]
    where = listing.get("webhook_url") or f"webhook {webhook_id}"
    if not users:
        click.echo(f"no account is subscribed to {where}")
        return
    click.echo(f"subscribed to {where}:")
    for user_id in users:
        click.echo(f"  user {user_id}")


@x.command()
@click.argument("webhook_id", metavar="ID")
@click.option("--user-id", default=None, help="The account to unsubscribe [default: the credentials' account].")
@credentials_options
@reports_x_errors
def unsubscribe(webhook_id: str, user_id: str | None, secret_name: str | None, region: str | None) -> None:
    """Account Activity: stop delivering the account's events to webhook ID."""
    webhook_id = _checked_id(webhook_id)
    if user_id is not None:
        user_id = _checked_id(user_id, "user")
    client = _client(secret_name, region)
    target = user_id or str(client.me()["id"])
    client.unsubscribe(webhook_id, target)
    click.echo(f"unsubscribed user {target} from webhook {webhook_id}")


# The Account Activity commands are also under `webhook` (`botctl x webhook subscribe ID`), where a
# reader of "webhook register URL | ... | subscribe ID" may look for them.
webhook.add_command(subscribe)
webhook.add_command(unsubscribe)
webhook.add_command(subscriptions)


@x.group()
def activity() -> None:
    """X Activity API subscriptions (the Account Activity API's successor)."""


@activity.command("subscribe")
@click.argument("webhook_id", metavar="WEBHOOK_ID")
@click.option(
    "--event-type",
    "event_types",
    multiple=True,
    help="An X Activity event type (repeatable) [default: post.mention.create and post.reply.create, "
    "the ones the bot answers; X bills each delivered post event].",
)
@click.option("--user-id", default=None, help="The account to watch [default: the credentials' account].")
@click.option("--tag", default=None, help="A label X repeats in each delivery [default: xbot].")
@credentials_options
@reports_x_errors
def activity_subscribe(
    webhook_id: str,
    event_types: tuple[str, ...],
    user_id: str | None,
    tag: str | None,
    secret_name: str | None,
    region: str | None,
) -> None:
    """Deliver the account's mentions and replies to WEBHOOK_ID (signed as the account: they are private)."""
    from botlocal.x_setup import BOT_ACTIVITY_EVENT_TYPES, DEFAULT_ACTIVITY_TAG, checked_event_type, checked_tag

    # Everything typed is checked before any call: a refusal half-way would leave some made.
    webhook_id = _checked_id(webhook_id)
    if user_id is not None:
        user_id = _checked_id(user_id, "user")
    wanted = list(
        dict.fromkeys(checked_event_type(event_type) for event_type in event_types or BOT_ACTIVITY_EVENT_TYPES)
    )
    label = checked_tag(DEFAULT_ACTIVITY_TAG if tag is None else tag)
    client = _client(secret_name, region)
    target = user_id or str(client.me()["id"])
    # Run again after a fix, it makes only what is missing (X bills each delivery: no duplicates).
    existing = {
        item.get("event_type"): item.get("subscription_id")
        for item in client.activity_subscriptions()
        if item.get("webhook_id") == webhook_id and _filter_user(item) == target
    }
    for event_type in wanted:
        if existing.get(event_type):
            click.echo(
                f"already subscribed {event_type} of user {target} to webhook {webhook_id}: "
                f"subscription {existing[event_type]}"
            )
            continue
        made = client.activity_subscribe(event_type, target, webhook_id, label)
        click.echo(
            f"subscribed {event_type} of user {target} to webhook {webhook_id}: subscription {made['subscription_id']}"
        )


@activity.command("list")
@credentials_options
@reports_x_errors
def activity_list(secret_name: str | None, region: str | None) -> None:
    """The app's X Activity subscriptions."""
    client = _client(secret_name, region)
    items = client.activity_subscriptions()
    if not items:
        click.echo("no X Activity subscriptions for this app")
        return
    rows = [
        [
            item.get("subscription_id"),
            item.get("event_type"),
            _filter_user(item),
            item.get("webhook_id"),
            item.get("tag"),
        ]
        for item in items
    ]
    click.echo(_table(["subscription_id", "event_type", "user_id", "webhook_id", "tag"], rows))


@activity.command("delete")
@click.argument("subscription_id", metavar="SUBSCRIPTION_ID")
@credentials_options
@reports_x_errors
def activity_delete(subscription_id: str, secret_name: str | None, region: str | None) -> None:
    """Delete one X Activity subscription (ids: `botctl x activity list`)."""
    subscription_id = _checked_id(subscription_id, "subscription")
    client = _client(secret_name, region)
    client.activity_delete(subscription_id)
    click.echo(f"deleted X Activity subscription {subscription_id}")


@x.command("post-test")
@click.option("--text", default=None, help="What to post [default: a dated test line].")
@click.option("--yes", is_flag=True, help="Post without asking.")
@click.option("--ignore-kill-switch", is_flag=True, help="Post even though BOT_POSTING (the local kill switch) is off.")
@credentials_options
@reports_x_errors
def post_test(
    text: str | None, yes: bool, ignore_kill_switch: bool, secret_name: str | None, region: str | None
) -> None:
    """Post once from the bot's account, to prove the write credentials (public: delete it afterwards).
    Refused while the kill switch BOT_POSTING is off (or unreadable), unless --ignore-kill-switch."""
    from chalicelib.kernel.errors import TransientError
    from chalicelib.kernel.x_text import MAX_WEIGHTED_LENGTH, weighted_length

    from botlocal.posting import EnvironmentPostingSwitch

    if text and weighted_length(text) > MAX_WEIGHTED_LENGTH:
        # X counts by weight (a URL as 23, most emoji and CJK characters as 2): refused here, before any
        # credential is read, rather than by X after the confirmation.
        raise click.ClickException(
            f"nothing posted: the text weighs {weighted_length(text)} of X's {MAX_WEIGHTED_LENGTH} "
            "(a URL counts 23, an emoji or a CJK character 2)"
        )
    if not ignore_kill_switch:
        try:
            enabled = EnvironmentPostingSwitch().posting_enabled()
        except TransientError as error:
            raise click.ClickException(f"nothing posted: {error} (--ignore-kill-switch to post anyway)") from None
        if not enabled:
            raise click.ClickException("nothing posted: BOT_POSTING is off (--ignore-kill-switch to post anyway)")
    # Dated, so a second run is not refused as duplicate content.
    message = text or f"Test post from botctl, {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC"
    client = _client(secret_name, region)
    if not yes:
        click.confirm(f"Post {message!r} publicly from the bot's account?", abort=True)
    post_id = client.post(message)
    click.echo(f"posted {post_id}: https://x.com/i/status/{post_id}")


def _filter_user(subscription: dict[str, Any]) -> Any:
    rule = subscription.get("filter")
    return rule.get("user_id") if isinstance(rule, dict) else None


def _yes_no(value: Any) -> str:
    return "yes" if value is True else "no" if value is False else "unknown"
