"""The help that editors show on hover, in the words of docs/spec.md (a kind's parameters carry their own)."""

from __future__ import annotations

TOP_HELP = {
    "name": "The network's name, shown above the table (default: the file's name without .yaml).",
    "description": "A line about the network, shown under its name.",
    "input": (
        "The input volume: spatial dims (height before width), then the depth. 224x224x3, "
        "[224, 224, 3] or {height: 224, width: 224, depth: 3}; {length: 100, depth: 16} for 1-D "
        "(two numbers, 7x7, are refused: write 7x7x1 for an image); 16x112x112x3 for 3-D; a single "
        "number (784) for a vector. A spatial dim may be a symbol: HxWx3 (docs/symbolic.md)."
    ),
    "example": (
        "For a symbolic input (HxWx3): the size at which `expect:` answers are checked and the "
        "commands that need numbers run, e.g. 224x224x3."
    ),
    "batch": "Images per batch (default 1): memory and MACs scale with it.",
    "dtype": "The type of every value, which sets the bytes per value (default float32).",
    "rounding": (
        "What a stride that does not fit means, for every layer that does not choose: strict (an error, "
        "the default), floor (PyTorch, Caffe's conv) or ceil (Caffe's pooling, ceil_mode=True)."
    ),
    "defaults": (
        "Per-kind default parameters, e.g. conv: {pad: 1, activation: relu}. An alias matches only the "
        "layers it describes (maxpool: not avgpool); a parameter a layer sets always wins."
    ),
    "blocks": (
        "Named blocks of layers with arguments, called from the layers like a kind: "
        "bottleneck: {width: 64, out: 256}. Inside, ${name} is replaced by the call's value."
    ),
    "layers": "The layers in order: shorthand strings (conv3-64 s1 p1), long forms (conv: {...}) and composites.",
    "expect": "Answers and budgets for the whole network, checked by `convcalc show` and `convcalc check`.",
}
LAYER_HELP = {
    "name": "The name shown in the table (default: the shorthand head in capitals, CONV3-64).",
    "module": "Its PyTorch name in export and to_module, dots nesting (features.0); default: from name:.",
    "expect": "Answers for this layer (or composite, counted as one), checked by `convcalc check`.",
    "checkpoint": (
        "true on a composite or block call: torch.utils.checkpoint (use_reentrant=False) keeps only its "
        "input in forward and runs it again in backward (docs/peak-memory.md)."
    ),
    "layer": "A layer in shorthand, so that it can have a name: or expect: beside it.",
    "repeat": "Repeat the layers beside it (layers:) this many times in sequence.",
    "layers": "The layers a repeat repeats.",
    "residual": "y = merge(layers(x), shortcut(x)), then an optional activation (ResNet, DenseNet).",
    "parallel": "Branches over the same input, merged (Inception; squeeze-and-excitation with multiply).",
    "from": "The earlier layers of this list it reads, by name (input: the list's input); a layer reads one.",
    "merge": "A merge of the earlier layers `from:` names: add, concat (in that order) or multiply.",
}
RESIDUAL_HELP = {
    "layers": "The body of the block.",
    "shortcut": (
        "[] or identity (the default); auto: identity when the body keeps the volume, else torchvision's "
        "projection (a 1x1 conv with the matching stride, no bias, then batchnorm); crop: U-Net's copy and "
        "crop, the input cut to the body's spatial size, centred (with merge: concat or add); or a list of layers."
    ),
    "merge": "add (ResNet, the default), concat (DenseNet: the depths add up) or multiply.",
    "activation": "An activation fused into the merge row, e.g. relu.",
}
PARALLEL_HELP = {
    "branches": "A list of branches, each a list of layers over the same input ([] passes the input through).",
    "merge": "concat (the default), add, or multiply (broadcast, for squeeze-and-excitation).",
}
BLOCK_HELP = {
    "args": "Each argument and its default (null: the call must give it).",
    "layers": "The block's layers; ${name} in any value is replaced by the argument's value.",
}
EXPECT_HELP = {
    "output": "The output volume, e.g. 55x55x96, [55, 55, 96] or 1000.",
    "rf": "The receptive field: one number (every dim) or one per dim.",
    "memory": "Bytes (at the top level: the forward pass): 61MB, 58MiB, '<= 100MB'.",
    "fits": "Whether the stride fits: false answers 'it does not fit' (the window misses rows or columns).",
}
# Shorthand layers that editors offer as completions, beside the kinds that need no numbers.
# What is expected where a string layer is not one. Validators print it as a sentence
# (check-jsonschema: `$.layers[1]: '<EXPECTED>' was expected`), and yaml-language-server shows
# it with what it is refused for (convcalc/schema/builder.py, `refuse`).
SHORTHAND_KIND = "a layer in shorthand, whose first word is a kind (conv3-64, maxpool, fc-10, relu...), or a block"
SHORTHAND_FORM = "the shorthand of this kind of layer (conv3-64 s2 p1, maxpool3 s2, fc-10; docs/spec.md)"
CALL_TAKEN = "the name of a block, which is not a layer kind's word"
NEEDS_PARAMS = "a layer kind with the parameters it needs (conv3-64, not conv), or defaults: that give them"
SHORTHAND_EXAMPLES = [
    "conv3-64 p1", "conv3-64 s2 p1", "conv1-256", "maxpool2", "maxpool3 s2", "avgpool2", "fc-4096",
    "bn", "relu", "dropout", "gap", "flatten",
]  # fmt: skip
NUMBER_HELP = "exact (760), rounded to the digits written (138M, 15.47G), about (~800K) or a bound ('<= 10M')"
