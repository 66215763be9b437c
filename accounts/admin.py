from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.http import HttpRequest
from rest_framework.authtoken.admin import TokenAdmin as DrfTokenAdmin
from rest_framework.authtoken.models import TokenProxy

from accounts import services
from accounts.forms import ThrottledAdminAuthenticationForm
from accounts.models import PATIENTS, ApiToken, CareLink, DiaryAccess, User

# What only a superuser may grant: with any of these a staff user could raise themself.
SUPERUSER_ONLY_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")


class UserCreationAdminForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ["username", "email"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    add_form = UserCreationAdminForm
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "email", "usable_password", "password1", "password2"),
            },
        ),
    )
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Preferences", {"fields": ("timezone",)}),
        ("Email verification", {"fields": ("email_verified_at",)}),
    )
    list_display = (
        "username",
        "email",
        "first_name",
        "last_name",
        "role_names",
        "is_staff",
        "is_active",
    )
    list_filter = ("groups", "is_staff", "is_superuser", "is_active")
    actions = ["make_doctor", "make_patient"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="Groups")
    def role_names(self, user: User) -> str:
        return ", ".join(sorted(group.name for group in user.groups.all())) or "—"

    def save_model(self, request: HttpRequest, obj: User, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            # Deactivated: sessions, token and open sockets end now, not at their next check.
            services.end_credentials(user=obj, reason="deactivated")
        if not change:
            # A user added here joins Patients like everyone else.
            obj.groups.add(Group.objects.get_or_create(name=PATIENTS)[0])

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> tuple:
        readonly = tuple(super().get_readonly_fields(request, obj))
        if request.user.is_superuser:
            return readonly
        # Read-only fields are left out of the form, so a crafted POST cannot set them either.
        return (*readonly, *SUPERUSER_ONLY_FIELDS)

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        return super().has_change_permission(request, obj) and _may_manage(request.user, obj)

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        return super().has_delete_permission(request, obj) and _may_manage(request.user, obj)

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = ""):
        """Django's "change password" page; a password set here ends the user's token, sessions
        and sockets too, as the user's own password change does."""
        before = self.get_object(request, unquote(id))
        response = super().user_change_password(request, id, form_url)
        after = self.get_object(request, unquote(id)) if request.method == "POST" else None
        if before is not None and after is not None and after.password != before.password:
            services.end_credentials(user=after, reason="password-changed")
            if after.pk == request.user.pk:
                update_session_auth_hash(request, after)
        return response

    @admin.action(permissions=["change"], description="Make doctor (join Doctors, leave Patients)")
    def make_doctor(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        count = services.set_role(users=list(queryset), role="doctor")
        self.message_user(request, f"{count} user(s) are now doctors.", messages.SUCCESS)

    @admin.action(permissions=["change"], description="Make patient (join Patients, leave Doctors)")
    def make_patient(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        count = services.set_role(users=list(queryset), role="patient")
        self.message_user(request, f"{count} user(s) are now patients.", messages.SUCCESS)


@admin.register(CareLink)
class CareLinkAdmin(admin.ModelAdmin):
    list_display = ("patient", "doctor", "status", "created", "responded", "ended")
    list_filter = ("status",)
    list_select_related = ("patient", "doctor")
    search_fields = ("patient__username", "doctor__username")
    raw_id_fields = ("patient", "doctor")
    readonly_fields = ("created",)
    actions = ["end_links"]

    @admin.action(permissions=["change"], description="End the selected links")
    def end_links(self, request: HttpRequest, queryset: QuerySet[CareLink]) -> None:
        count = services.end_links(links=queryset)  # closes the pairs' chat sockets too
        self.message_user(request, f"{count} link(s) ended.", messages.SUCCESS)


@admin.register(DiaryAccess)
class DiaryAccessAdmin(admin.ModelAdmin):
    """The access log, read-only: nobody edits or deletes the trace of a read."""

    list_display = ("at", "viewer", "patient", "what")
    list_select_related = ("viewer", "patient")
    search_fields = ("viewer__username", "patient__username", "what")
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: DiaryAccess | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: DiaryAccess | None = None) -> bool:
        return False


def _may_manage(admin_user: User, obj: User | None) -> bool:
    """Whether `admin_user` may edit or delete the account `obj` at all.

    Staff who are not superusers manage ordinary accounts and their own; another staff account
    or a superuser's is the superusers' business. Otherwise a staff user with `change_user`
    could set a superuser's password or email (then reset it) and sign in as them.
    """
    if obj is None or admin_user.is_superuser or obj.pk == admin_user.pk:
        return True
    return not (obj.is_staff or obj.is_superuser)


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(DjangoGroupAdmin):
    """Django's group admin, but only a superuser edits a group's permissions (a staff user
    with `change_group` could otherwise give their own group every permission)."""

    def get_readonly_fields(self, request: HttpRequest, obj: Group | None = None) -> tuple:
        readonly = tuple(super().get_readonly_fields(request, obj))
        return readonly if request.user.is_superuser else (*readonly, "permissions")


# DRF registers its TokenProxy with the full key in the list; tokens are shown here instead.
if admin.site.is_registered(TokenProxy):
    admin.site.unregister(TokenProxy)


@admin.register(ApiToken)
class ApiTokenAdmin(DrfTokenAdmin):
    """API tokens: who has one and since when, a prefix of the key at most. A key is a password:
    it cannot be read, searched for or set here; deleting a token (signing that user's API
    clients out) is what an admin does with one."""

    list_display = ("key_prefix", "user", "created")
    fields = ("key_prefix", "user", "created")
    readonly_fields = ("key_prefix", "user", "created")
    search_fields = ("user__username",)  # never the key: a search would reveal it bit by bit

    @admin.display(description="Key")
    def key_prefix(self, token: ApiToken) -> str:
        return token.key_prefix

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False


# /admin/login/ is accounts.views.admin_sign_in (config/urls.py), which renders this form.
admin.site.login_form = ThrottledAdminAuthenticationForm
