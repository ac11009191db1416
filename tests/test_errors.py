import re

from annotator.errors import AnnotatorError, Errors


def test_errors_messages_carry_their_code():
    assert Errors.E010.startswith("[E010] ")
    assert AnnotatorError(Errors.E010.format(path="x")).code == "E010"


def test_errors_codes_are_unique_and_actionable():
    codes = [name for name in vars(Errors) if re.fullmatch(r"E\d{3}", name)]
    assert len(codes) == len(set(codes)) > 20
    for code in codes:
        message = getattr(Errors, code)
        assert message.startswith(f"[{code}] ")
        assert len(message) > 30, f"{code} should say what happened and what to do"


def test_errors_uncoded_message_has_no_code():
    assert AnnotatorError("plain").code is None
