from __future__ import annotations

from convscope.studies.context import folder_name


def test_a_condition_becomes_a_folder_name() -> None:
    assert folder_name("600 images") == "600-images"
    assert folder_name("Pixels permuted!") == "pixels-permuted"
    assert folder_name("shifted 0 to 4 px") == "shifted-0-to-4-px"
