from __future__ import annotations

from rest_framework import serializers

from messaging.models import MAX_LENGTH


class MessageSerializer(serializers.Serializer):
    """A message as the API and the JSON WebSocket show it (see services.message_data)."""

    id = serializers.IntegerField()
    sender = serializers.CharField(help_text="The sender's username.")
    receiver = serializers.CharField(help_text="The receiver's username.")
    message = serializers.CharField(max_length=MAX_LENGTH)
    timestamp = serializers.DateTimeField()


class ConversationListSerializer(serializers.Serializer):
    unique_peers = serializers.ListField(
        child=serializers.CharField(), help_text="Usernames, most recent conversation first."
    )


class StartConversationSerializer(serializers.Serializer):
    peer_username = serializers.CharField(max_length=150)


class ConversationLinksSerializer(serializers.Serializer):
    chat_url = serializers.CharField()
    ws_url = serializers.CharField()


class HistoryQuerySerializer(serializers.Serializer):
    before = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=1000)
