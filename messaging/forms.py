from __future__ import annotations

from django import forms

from accounts.models import User
from messaging import services


class StartConversationForm(forms.Form):
    username = forms.CharField(
        max_length=150,
        label="Start a conversation",
        widget=forms.TextInput(attrs={"placeholder": "Username", "autocomplete": "off"}),
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_username(self) -> User:
        username = self.cleaned_data["username"].strip()
        peer = User.objects.filter(username=username, is_active=True).first()
        if peer is None:
            raise forms.ValidationError(f"There is no user called “{username}”.")
        if peer.pk == self.user.pk:
            raise forms.ValidationError("You cannot start a conversation with yourself.")
        if not services.can_chat(self.user, peer):
            raise forms.ValidationError(f"You cannot message “{username}”: {services.CANNOT_SEND}")
        return peer
