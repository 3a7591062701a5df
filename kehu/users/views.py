from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.forms import apply_errors
from kehu.core.views import safe_next
from kehu.users import services
from kehu.users.forms import LoginForm, PasswordForm, ProfileForm, TokenForm
from kehu.users.models import ApiToken, User


class LoginView(auth_views.LoginView):
    template_name = "users/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


@require_POST
def language(request: HttpRequest) -> HttpResponse:
    """Switch language: remembered on the user when signed in, in a cookie otherwise."""
    lang = request.POST.get("language", "")
    response = redirect(safe_next(request))
    try:
        if request.user.is_authenticated:
            services.set_language(user=request.user, language=lang)
        elif lang not in ("zh-hans", "en"):
            raise ValidationError(_("Choose 简体中文 or English."))
        translation.activate(lang)
        response.set_cookie("django_language", lang, max_age=365 * 24 * 3600, samesite="Lax")
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    return response


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    form = ProfileForm(initial={"display_name": user.display_name, "email": user.email, "language": user.language})
    pw_form = PasswordForm(user=user)
    token_form = TokenForm()
    new_token = None
    if request.method == "POST":
        what = request.POST.get("form")
        try:
            if what == "profile":
                form = ProfileForm(request.POST)
                if form.is_valid():
                    data = form.cleaned_data
                    services.update_user(
                        actor=user, user=user, values={"display_name": data["display_name"], "email": data["email"]}
                    )
                    services.set_language(user=user, language=data["language"])
                    translation.activate(data["language"])
                    messages.success(request, _("Profile saved."))
                    return redirect("users:profile")
            elif what == "password":
                pw_form = PasswordForm(request.POST, user=user)
                if pw_form.is_valid():
                    services.set_password(actor=user, user=user, password=pw_form.cleaned_data["new_password"])
                    update_session_auth_hash(request, user)
                    messages.success(request, _("Password changed."))
                    return redirect("users:profile")
            elif what == "token":
                token_form = TokenForm(request.POST)
                if token_form.is_valid():
                    new_token = services.create_token(user=user, name=token_form.cleaned_data["name"])
        except ValidationError as exc:
            target = {"profile": form, "password": pw_form, "token": token_form}.get(what or "", form)
            apply_errors(target, exc)
    return render(
        request,
        "users/profile.html",
        {
            "form": form,
            "pw_form": pw_form,
            "token_form": token_form,
            "new_token": new_token,
            "tokens": user.api_tokens.order_by("-created_at"),
        },
    )


@login_required
@require_POST
def revoke_token(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    services.revoke_token(actor=request.user, token=token)
    messages.success(request, _("Token revoked."))
    return redirect("users:profile")
