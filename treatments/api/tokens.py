"""API tokens: a username and password in, a new token out (401 naming the field when they do not
match); DELETE (v2) revokes the token the request was made with.

Every POST issues a new token for one client, with an expiry (API_TOKEN_DAYS); the secret is in the
answer only. The endpoint authenticates nobody: the anonymous limit per address, and a limit per
username and address, apply even to a caller who sends a valid token (security review F4, F5).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from treatments.models import ApiToken
from treatments.services import tokens

from .authentication import ApiTokenAuthentication, TokenSchemeOnly
from .exceptions import InvalidCredentials, validated
from .permissions import acting_user
from .schemas import TokenIssued, TokenRequest, TokenRequestV2, TokenResponse
from .throttling import AnonThrottle, TokenRequestThrottle, UserThrottle
from .versions import VersionedView

V1_CLIENT = "API v1 client"
V2_CLIENT = "API client"


class TokenView(VersionedView):
    """Exchange a username and password for a new API token (send it as `Authorization: Token <token>`).
    DELETE revokes the token sent with the request."""

    def get_authenticators(self) -> list[BaseAuthentication]:
        if self._issuing:
            return [TokenSchemeOnly()]
        return [ApiTokenAuthentication()]  # revoking "the token used" needs a token, not a session

    def get_permissions(self) -> list[BasePermission]:
        return [AllowAny()] if self._issuing else [IsAuthenticated()]

    def get_throttles(self) -> list[BaseThrottle]:
        if self._issuing:
            return [AnonThrottle(), TokenRequestThrottle()]
        return [AnonThrottle(), UserThrottle()]

    @property
    def allowed_methods(self) -> list[str]:
        return [method for method in super().allowed_methods if not (self.is_v1 and method == "DELETE")]

    @property
    def _issuing(self) -> bool:
        # v1 has no DELETE: it is answered 405 without asking for credentials first.
        return self.is_v1 or getattr(self.request, "method", "POST") != "DELETE"

    @extend_schema(request=TokenRequestV2, responses={200: TokenIssued}, auth=[], tags=["auth"])
    def post(self, request: Request) -> Response:
        body = validated(TokenRequest if self.is_v1 else TokenRequestV2, request.data)
        user = authenticate(request._request, username=body.username, password=body.password)
        if user is None:
            raise InvalidCredentials()
        client = V1_CLIENT if self.is_v1 else (body.client or V2_CLIENT)
        token, secret = tokens.token_issue(user=user, client=client)
        if self.is_v1:
            return Response(TokenResponse(token=secret).model_dump())
        issued = TokenIssued(
            token=secret, client=token.client, prefix=token.prefix, expires_at=token.expires_at
        )
        return Response(issued.model_dump(mode="json"))

    @extend_schema(request=None, responses={204: None}, tags=["auth"])
    def delete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if self.is_v1:  # v1's published document has no DELETE here
            raise MethodNotAllowed(request.method or "DELETE")
        assert isinstance(request.auth, ApiToken)
        tokens.token_revoke(token=request.auth, actor=acting_user(request), reason=tokens.REVOKED_BY_CLIENT)
        return Response(status=status.HTTP_204_NO_CONTENT)
