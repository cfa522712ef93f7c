from lib.api.model_summary import capability_line
from lib.api.models import model_info


def test_capability_line_names_window_roles_and_images() -> None:
    assert capability_line(model_info("google/gemma-3-27b-it")) == (
        "128,000-token context · takes a system prompt · reads images"
    )
    line = capability_line(model_info("google/gemma-3n-e4b-it"))
    assert line.startswith("8,192-token context") and "folded" in line and line.endswith("text only")
    assert capability_line(model_info("someone/else")).startswith("context window unknown")
