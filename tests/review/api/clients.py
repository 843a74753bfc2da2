from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


def api_client(user) -> APIClient:
    """An API client authenticated as `user` with a token, as scripts use the API."""
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client
