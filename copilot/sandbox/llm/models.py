from django.db import models


class ChatRequest(models.Model):
    """Every chat completion the fake server answered, so tests and benchmarks can see what
    was sent (kept in the database: the fake may run in another process)."""

    scenario = models.CharField(max_length=20)
    status = models.PositiveSmallIntegerField()
    model = models.CharField(max_length=100, blank=True)
    json_mode = models.BooleanField(default=False)
    messages = models.JSONField(default=list)
    response_content = models.TextField(blank=True)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.scenario} {self.status} {self.created_at:%H:%M:%S}"

    @property
    def prompt(self) -> str:
        return "\n".join(str(message.get("content", "")) for message in self.messages)
