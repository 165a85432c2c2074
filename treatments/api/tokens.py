"""API tokens: a username and password in, a token out (401 naming the field when they do not match)."""

from __future__ import annotations

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from .exceptions import InvalidCredentials, validated
from .schemas import (
    TokenRequest,
    TokenResponse,
)
from .versions import VersionedView


class TokenView(VersionedView):
    """Exchange a username and password for an API token (send it as `Authorization: Token <token>`)."""

    # Token authentication only so that a 401 names its scheme (WWW-Authenticate: Token).
    authentication_classes = [TokenAuthentication]
    permission_classes = [AllowAny]

    @extend_schema(request=TokenRequest, responses={200: TokenResponse}, auth=[], tags=["auth"])
    def post(self, request: Request) -> Response:
        body = validated(TokenRequest, request.data)
        user = authenticate(request._request, username=body.username, password=body.password)
        if user is None:
            raise InvalidCredentials()
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})
