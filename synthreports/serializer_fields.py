"""Strict API fields: a JSON string where the schema says string.

DRF's CharField turns 0, 1.5 or true into "0", "1.5", "True": a request the schema calls
invalid was accepted (schemathesis's negative-data check found it on every string field).
"""

from typing import Any

from rest_framework import serializers


class StrictCharField(serializers.CharField):
    default_error_messages = {"not_a_string": "Must be a string."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)
