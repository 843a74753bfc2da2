from tests.transactional_fixtures import plain_http_cookies, roles

__all__ = ["plain_http_cookies", "roles"]
