"""The one redaction function: every credential shape is replaced wherever it sits in the text."""

from hypothesis import given
from hypothesis import strategies as st

from sizing.redact import REDACTED, redact, redact_value

SECRETS = [
    "hf_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7",
    "AKIA" + "IOSFODNN7EXAMPLE",
    "ASIA" + "Z" * 16,
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA\n-----END OPENSSH PRIVATE KEY-----",
    "ghp_" + "x" * 36,
]


@given(st.sampled_from(SECRETS), st.text(max_size=40), st.text(max_size=40))
def test_a_credential_anywhere_is_redacted(secret, before, after):
    out = redact(before + " " + secret + " " + after)
    assert secret not in out and REDACTED in out


def test_secure_values_are_redacted_as_text_and_as_data():
    assert "v1:abc" not in redact("llmfleet:model={'secure': 'v1:abc'}")
    assert redact_value({"a": {"secure": "v1:abc"}, "b": ["hf_" + "q" * 34]}) == {
        "a": {"secure": REDACTED},
        "b": [REDACTED],
    }


def test_ordinary_text_is_left_alone():
    text = "arn:aws:secretsmanager:us-east-1:123456789012:secret:llmfleet/hf-token-AbCdEf on g5.xlarge"
    assert redact(text) == text
