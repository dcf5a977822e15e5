"""A tiny ONNX text classifier and its tokenizer, built on the spot (no download).

The model sums per-token logit vectors over the non-padding tokens: the words
"ignore", "previous", "instructions" and "system" push towards INJECTION,
"hello" and "world" towards SAFE. It has the inputs of a real exported
classifier (``input_ids``, ``attention_mask``) and its output shape
(``[batch, 2]`` logits), so the whole loading and scoring path is exercised.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

VOCAB = {
    "[PAD]": 0,
    "[UNK]": 1,
    "ignore": 2,
    "previous": 3,
    "instructions": 4,
    "system": 5,
    "hello": 6,
    "world": 7,
}


def build_tiny_classifier(directory: Path, *, classes: int = 2) -> tuple[Path, Path]:
    """Write ``tiny.onnx`` and ``tokenizer.json`` into ``directory``; return their paths."""
    tokenizer = Tokenizer(models.WordLevel(VOCAB, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer_path = directory / "tokenizer.json"
    tokenizer.save(str(tokenizer_path))

    table = np.zeros((len(VOCAB), classes), np.float32)
    table[[2, 3, 4, 5], classes - 1] = 3.0
    table[[6, 7], 0] = 2.0
    nodes = [
        helper.make_node("Gather", ["table", "input_ids"], ["per_token"], axis=0),
        helper.make_node("Cast", ["attention_mask"], ["mask_f"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["mask_f", "last"], ["mask3"]),
        helper.make_node("Mul", ["per_token", "mask3"], ["kept"]),
        helper.make_node("ReduceSum", ["kept", "seq_axis"], ["logits"], keepdims=0),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny-injection-classifier",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"]),
        ],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", classes])],
        [
            numpy_helper.from_array(table, "table"),
            numpy_helper.from_array(np.array([2], np.int64), "last"),
            numpy_helper.from_array(np.array([1], np.int64), "seq_axis"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    model_path = directory / "tiny.onnx"
    onnx.save(model, str(model_path))
    return model_path, tokenizer_path
