from django.db import models

from copilot.agents import Agent


class CardSession(models.Model):
    """An agent signed in to the card with Kustomer, in one browser.

    The browser holds only a random key (in a partitioned cookie); its hash is stored here. The
    agent's Kustomer tokens are encrypted at rest and used for what the agent does in Kustomer
    (drafts), so Kustomer itself decides what the agent may see and do.
    """

    key_hash = models.CharField(max_length=64, unique=True)
    agent_id = models.CharField(max_length=64, db_index=True)
    agent_name = models.CharField(max_length=255)
    agent_email = models.CharField(max_length=255, blank=True)
    roles = models.JSONField(default=list)
    org_id = models.CharField(max_length=64)
    access_token = models.TextField()  # encrypted
    refresh_token = models.TextField(blank=True)  # encrypted
    access_expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()
    verified_at = models.DateTimeField()  # when Kustomer last confirmed the token still works
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=100, blank=True)

    class Meta:
        indexes = [models.Index(fields=["agent_id", "ended_at"])]

    def __str__(self) -> str:
        return f"{self.agent_name} ({self.agent_id})"

    @property
    def agent(self) -> Agent:
        return Agent(id=self.agent_id, name=self.agent_name, roles=frozenset(self.roles))
