"""Human labeling in Argilla: the local stack (server), dataset settings, push, pull, agreement.

Talks to argilla-server 2.x over its REST API (client.py); works with the local stack that
``curate label serve`` starts or with any Argilla 2.x (Docker, HF Space).
"""
