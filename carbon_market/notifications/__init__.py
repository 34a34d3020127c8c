"""Notifications: an outbox of messages to enterprises' contacts and to the regulators.

Any service enqueues a message with :func:`carbon_market.notifications.service.enqueue`
inside its own unit of work (so the message exists exactly when the change that caused it
does); the ``notifications_deliver`` job sends what is pending by SMTP and/or webhook,
retrying with exponential back-off. Every message stays readable in the API whether or not
it was delivered. See docs/notifications.md.
"""
