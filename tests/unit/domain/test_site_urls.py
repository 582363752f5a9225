"""domain/site_urls.py: the paths mails and pages share."""

from __future__ import annotations

from paperboy.domain.site_urls import DIGEST_MANAGE_PATH, RESET_PASSWORD_PATH, paper_url, with_token


def test_a_paper_path_keeps_the_slash_of_an_old_style_id():
    assert paper_url("2501.00001") == "/papers/2501.00001"
    assert paper_url("hep-th/9901001") == "/papers/hep-th/9901001"


def test_a_token_path_carries_the_token_first_then_the_other_parameters_encoded():
    assert (
        with_token(DIGEST_MANAGE_PATH, "Wzk.abc-_", done="saved")
        == "/digest/manage?token=Wzk.abc-_&done=saved"
    )
    assert with_token(RESET_PASSWORD_PATH, "a b/c") == "/reset-password?token=a+b%2Fc"
