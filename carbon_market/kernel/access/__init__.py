"""Who acts and what they may do: the :class:`~carbon_market.kernel.access.roles.Actor`
every service receives, and the platform's one authorization table
(:func:`~carbon_market.kernel.access.policy.authorize`), which every service calls first.

Below the audit log (an event names its actor) and below authentication
(``kernel/auth``: users, tokens, passwords), which turns a login or a token into an actor.
"""
