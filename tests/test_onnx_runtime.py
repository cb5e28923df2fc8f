"""The shared ONNX Runtime session factory honours its memory options."""

from __future__ import annotations

import numpy as np
import pytest

from callscope import onnx_runtime

pytestmark = pytest.mark.skipif(not onnx_runtime.available(), reason="onnx / onnxruntime not installed")


def _relu_graph() -> bytes:
    """A one-node model, x (batch, length) -> relu(x), the length dynamic."""
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, "length"])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, "length"])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "relu", [x], [y])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def test_memory_options_reach_the_session_and_default_to_onnx_runtimes():
    default = onnx_runtime.cpu_session(_relu_graph()).get_session_options()
    assert default.enable_mem_pattern and default.enable_cpu_mem_arena
    lean = onnx_runtime.cpu_session(_relu_graph(), mem_pattern=False, cpu_arena=False).get_session_options()
    assert not lean.enable_mem_pattern and not lean.enable_cpu_mem_arena


def test_a_session_without_memory_pattern_runs_inputs_of_any_length():
    session = onnx_runtime.cpu_session(_relu_graph(), mem_pattern=False)
    for length in (3, 17, 5):
        x = np.linspace(-1, 1, length, dtype=np.float32)[None]
        assert np.array_equal(session.run(None, {"x": x})[0], np.maximum(x, 0))


def test_checked_export_passes_the_session_options(tmp_path):
    target = tmp_path / "relu.onnx"
    seen = []

    def disagreement(session):
        seen.append(session.get_session_options().enable_mem_pattern)
        return None

    session = onnx_runtime.checked_export(
        target,
        lambda path: path.write_bytes(_relu_graph()),
        disagreement,
        name="relu",
        stale="relu-*.onnx",
        session_options={"mem_pattern": False},
    )
    assert session is not None and seen == [False]
