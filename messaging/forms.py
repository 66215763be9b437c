from __future__ import annotations

from django import forms
from django.utils.translation import gettext, gettext_lazy

from accounts.models import User
from messaging import services


class StartConversationForm(forms.Form):
    username = forms.CharField(
        max_length=150,
        label=gettext_lazy("Start a conversation"),
        widget=forms.TextInput(
            attrs={"placeholder": gettext_lazy("Username"), "autocomplete": "off"}
        ),
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_username(self) -> User:
        username = self.cleaned_data["username"].strip()
        peer = User.objects.filter(username=username, is_active=True).first()
        if peer is None:
            raise forms.ValidationError(
                gettext("There is no user called “%(username)s”.") % {"username": username}
            )
        if peer.pk == self.user.pk:
            raise forms.ValidationError(gettext("You cannot start a conversation with yourself."))
        if not services.can_chat(self.user, peer):
            raise forms.ValidationError(
                gettext("You cannot message “%(username)s”: %(reason)s")
                % {"username": username, "reason": gettext(services.CANNOT_SEND)}
            )
        return peer
