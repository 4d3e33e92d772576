"""`convcalc export --to pytorch`: the written module runs and agrees with convcalc's report."""

from __future__ import annotations

import importlib.util
import runpy
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner

from convcalc.builtins import builtin_names, open_spec
from convcalc.cli import main
from convcalc.engine.analyze import analyze
from convcalc.export import class_name
from convcalc.spec.loader import load_spec

if TYPE_CHECKING:
    from convcalc.report import Report


def export(tmp_path: Path, spec: str, *extra: str) -> Path:
    out = tmp_path / "exported.py"
    result = CliRunner().invoke(main, ["export", spec, "--to", "pytorch", "-o", str(out), *extra])
    assert result.exit_code == 0, result.output
    return out


def load(path: Path) -> Any:
    found = importlib.util.spec_from_file_location(f"exported_{abs(hash(path))}", path)
    assert found is not None
    assert found.loader is not None
    module = importlib.util.module_from_spec(found)
    found.loader.exec_module(module)
    return module


def run_main(path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    """What `python FILE` prints, as {"output": ..., "params": ...}."""
    capsys.readouterr()
    runpy.run_path(str(path), run_name="__main__")
    lines = capsys.readouterr().out.splitlines()
    return dict(line.split(": ", 1) for line in lines)


def agree(path: Path, report: Report, capsys: pytest.CaptureFixture[str]) -> None:
    printed = run_main(path, capsys)
    assert printed["output"] == str(report.totals.output)
    assert printed["params"] == f"{report.totals.params:,}"


# -- every built-in spec (issue 7, point 1) ----------------------------------------------------


@pytest.mark.slow
@pytest.mark.torch
@pytest.mark.slow
@pytest.mark.parametrize("name", builtin_names())
def test_every_builtin_exports_and_agrees(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch")
    path = export(tmp_path, name)
    report = analyze(open_spec(name))
    agree(path, report, capsys)  # what `python FILE` prints: the model's output volume and params


@pytest.mark.slow
@pytest.mark.torch
def test_the_class_imports_on_its_own(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    model = load(export(tmp_path, "lenet5")).LeNet5()
    assert sum(p.numel() for p in model.parameters()) == 61_706
    with torch.no_grad():
        assert model.eval()(torch.zeros(3, 1, 32, 32)).shape == (3, 10)


@pytest.mark.slow
@pytest.mark.torch
@pytest.mark.slow
def test_python_runs_the_exported_file(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    path = export(tmp_path, "lenet5")
    # Only torch is needed: run it from another folder, with convcalc's source out of the path.
    run = subprocess.run(
        [sys.executable, "-I", str(path)], capture_output=True, text=True, cwd=tmp_path, check=False, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["output: 10", "params: 61,706"]


# -- readable code (issue 7, point 2) -----------------------------------------------------------


# -- every construct, against convcalc's report --------------------------------------------------

FEATURES = {
    "names Python folds together, and long lines": """
name: "Net²"
description: '"quoted" start, with spaces around  '
input: 8x8x3
rounding: floor
layers:
  - {conv: {filters: 4, size: 3, pad: 1}, name: a.b}
  - {conv: {filters: 4, size: 3, pad: 1}, name: a_b}
  - {conv: {filters: 4, size: 3, pad: 1}, name: "1"}
  - {conv: {filters: 4, size: 3, pad: 1}, name: "\ufb01lter"}
  - {conv: {filters: 5, size: 3, pad: 1}, name: filter}
  - {conv: {filters: 6, size: 3, pad: 1}, name: "\uff43\uff4f\uff4e\uff56" }
  - {conv: {filters: 7, size: 3, pad: 1}, name: "x\u00b2"}
  - conv: {filters: 8, size: 2, stride: 2, pad: same, activation: log_softmax}
    name: a_rather_long_descriptive_name_for_this_layer_here
  - residual:
      layers: [conv3-16 s2 p1, bn]
      shortcut: auto
    name: an_extremely_long_residual_block_name_indeed_yes
  - parallel:
      branches: [[conv1-4], [conv1-4], [conv1-4], [conv1-4], [conv1-4], [conv1-4], [conv1-4], [conv1-4],
                 [conv1-4], [conv1-4], [conv1-4], [conv1-4]]
      merge: add
  - parallel:
      branches: [[conv1-4], [conv1-4], [conv1-4], [conv1-4], [conv1-4], [conv1-4], [conv1-4], [conv1-4],
                 [conv1-4], [conv1-4], [conv1-4], [conv1-4]]
      merge: multiply
""",
    "module: keys and dotted names": """
input: 8x8x3
layers:
  - {layer: conv3-4 p1, module: features.0}
  - {layer: conv3-4 p1, name: shown, module: features.2}
  - residual:
      layers: [{bn: null, name: norm}, {layer: conv3-4 p1, name: "."}]
    name: block
    module: stage.0
  - fc: 2
    name: head.out
""",
    "pixel shuffle": """
input: 8x8x16
layers: [conv3-16 p1, pixel_shuffle2, conv3-4 p1]
""",
    "a blank description": """
name: blank
description: "   "
input: 4
layers: [fc-2]
""",
    "same padding, ceil conv and pool": """
input: 15x15x3
layers:
  - conv: {filters: 8, size: 4, stride: 2, pad: same}
  - conv: {filters: 8, size: 3, stride: 2, rounding: ceil}
  - maxpool: {size: 3, stride: 2, pad: same}
  - avgpool: {size: 2, rounding: ceil}
""",
    "deconv, upsample, norms, dropout": """
input: 8x8x16
rounding: floor
layers:
  - deconv: {filters: 8, size: 4, stride: 2, pad: 1, output_padding: 0}
  - groupnorm: {groups: 4}
  - conv3-8 gdw p1
  - layernorm:
  - upsample: 2
  - lrn: 3
  - dropout: 0.25
  - batchnorm:
  - adaptive_avgpool3
  - flatten:
  - fc: {units: 10, bias: false, activation: softmax}
""",
    "1-D and every activation": """
input: {length: 100, depth: 4}
layers:
  - conv: {filters: 8, size: 5, activation: leaky_relu}
  - gelu:
  - silu:
  - tanh:
  - sigmoid:
  - hardswish:
  - mish:
  - maxpool: {size: 2}
  - gap:
  - fc: 3
  - log_softmax:
""",
    "3-D convs": """
input: [16, 16, 16, 2]
layers:
  - conv: {filters: 4, size: [3, 3, 1], pad: [1, 1, 0], dilation: 1}
  - conv: {filters: 4, size: 3, dilation: 2, groups: 2, pad: 2}
  - maxpool: {size: 2}
  - batchnorm:
""",
    "nested composites": """
input: 16x16x8
rounding: floor
layers:
  - residual:
      layers:
        - parallel:
            branches:
              - [conv3-4 p1]
              - - conv1-2
                - residual:
                    layers: [conv3-2 p1, relu]
              - []
            merge: concat
        - conv1-8
      activation: relu
  - residual:
      layers: [conv3-16 s2 p1]
      shortcut: [conv1-16 s2, bn]
  - residual:
      layers: [conv3-16 p1]
      merge: concat
  - residual:
      layers: [conv3-64 s2 p1]
      shortcut: auto
  - repeat: 2
    name: stage
    layers:
      - residual:
          layers: [conv3-64 p1]
        name: unit
""",
    "squeeze and excitation (multiply)": """
input: 8x8x16
layers:
  - residual:
      layers: [gap, flatten, fc-4, relu, fc-16, sigmoid]
      shortcut: identity
      merge: multiply
  - parallel:
      branches:
        - [conv1-16]
        - [gap, flatten, fc-16, sigmoid]
      merge: multiply
""",
    "a vector times many volumes (the product helper, one operand a line)": """
input: 4x4x4
layers:
  - parallel:
      branches: [[conv1-4], [conv1-4], [conv1-4], [conv1-4], [conv1-4], [conv1-4], [conv1-4], [conv1-4],
                 [conv1-4], [conv1-4], [conv1-4], [gap, flatten, fc-4]]
      merge: multiply
""",
}


AWKWARD = r'''
name: none
description: 'A "quoted" C:\Nets\unet, ending with """ triple"'
input: 784
layers:
  - layer: fc-100
    name: class
  - lrn:
    name: forward
  - fc: 10
    name: training
  - identity:
  - fc: 10
    name: a_really_long_layer_name_that_goes_on_and_on_and_on_for_ever_and_ever
  - fc: 10
    name: F
  - fc: 10
    name: "réseau"
'''


def awkward_spec(tmp_path: Path) -> str:
    source = tmp_path / "awkward.yaml"
    source.write_text(AWKWARD, encoding="utf-8")
    return str(source)


@pytest.mark.slow
@pytest.mark.parametrize("name", [*builtin_names(), "awkward", *sorted(FEATURES)])
def test_exported_files_pass_ruff(name: str, tmp_path: Path) -> None:
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (the dev extras have it)")
    if name == "awkward":
        name = awkward_spec(tmp_path)
    elif name in FEATURES:
        source = tmp_path / "spec.yaml"
        source.write_text(FEATURES[name], encoding="utf-8")
        name = str(source)
    path = export(tmp_path, name)
    rules = "E,F,W,I,N,UP,B,SIM,C4,PL"
    # N812: `import torch.nn.functional as F` is PyTorch's own convention.
    check = [ruff, "check", "--isolated", "--select", rules, "--ignore", "N812,PLR0915", str(path)]
    result = subprocess.run(check, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout
    fmt = subprocess.run(
        [ruff, "format", "--isolated", "--check", str(path)], capture_output=True, text=True, check=False
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_vgg16_reads_like_vgg16(tmp_path: Path) -> None:
    text = export(tmp_path, "vgg16").read_text(encoding="utf-8")
    assert "class VGG16(nn.Module):" in text
    # torchvision's names (the spec's `module:`), so that its state_dict loads.
    assert "        self.features = nn.ModuleDict()\n" in text
    assert '        self.features["0"] = nn.Conv2d(3, 64, 3, padding=1)\n' in text
    assert '        self.features["28"] = nn.Conv2d(512, 512, 3, padding=1)\n' in text
    assert '        self.features["30"] = nn.MaxPool2d(2)\n' in text
    assert '        self.classifier["0"] = nn.Linear(25088, 4096)\n' in text
    assert '        x = F.relu(self.classifier["0"](torch.flatten(x, 1)))\n' in text
    assert '        x = self.classifier["6"](x)\n' in text  # no relu on the class scores
    assert "params       138,357,544 (weights 138,344,128, biases 13,416)" in text
    assert "MACs         15,470,264,320 (15.47 G) per image" in text
    assert "convcalc" not in text.split('if __name__ == "__main__":')[0].split('"""', 2)[2].replace(
        "# As convcalc", ""
    ), "the module itself must not need convcalc"


def test_resnet18_names_follow_the_spec(tmp_path: Path) -> None:
    text = export(tmp_path, "resnet18").read_text(encoding="utf-8")
    assert "class ResNet18(nn.Module):" in text
    for line in (
        "        self.layer1 = nn.ModuleDict()\n",
        '        self.layer1["0"] = nn.ModuleDict()\n',
        '        self.layer1["0"].conv1 = nn.Conv2d(64, 64, 3, padding=1, bias=False)\n',
        '        self.layer2["0"].downsample["0"] = nn.Conv2d(64, 128, 1, stride=2, bias=False)\n',
        '        self.layer2["0"].downsample["1"] = nn.BatchNorm2d(128)\n',
        "        identity = x\n",
        '        x = self.layer1["0"].conv1(x)\n',
        '        shortcut = self.layer2["0"].downsample["0"](identity)\n',
        '        shortcut = self.layer2["0"].downsample["1"](shortcut)\n',
        "        x = F.relu(x + shortcut)\n",
        "        x = F.relu(x + identity)\n",
        "        self.fc = nn.Linear(512, 1000)\n",
    ):
        assert line in text


def test_densenet_and_googlenet_names(tmp_path: Path) -> None:
    densenet = export(tmp_path, "densenet121").read_text(encoding="utf-8")
    assert "        self.features.denseblock4.denselayer16.conv2 = nn.Conv2d(\n" in densenet  # torchvision's names
    assert "        x = self.features.denseblock4.denselayer16.conv2(x)\n" in densenet
    # The input (old features) first, then the new ones, as torchvision concatenates them.
    assert "x = torch.cat([identity, x], dim=1)" in densenet
    assert "x = torch.cat([x, identity], dim=1)" not in densenet
    googlenet = export(tmp_path, "googlenet").read_text(encoding="utf-8")
    assert '        self.inception_5b["3x3"] = nn.Conv2d(192, 384, 3, padding=1)\n' in googlenet
    assert 'branch2 = F.relu(self.inception_5b["3x3"](branch2))' in googlenet
    assert "x = torch.cat([branch1, branch2, branch3, branch4], dim=1)" in googlenet
    assert "ceil_mode=True" in googlenet


@pytest.mark.torch
@pytest.mark.parametrize("case", sorted(FEATURES))
def test_features_export_and_agree(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch")
    source = tmp_path / "spec.yaml"
    source.write_text(FEATURES[case], encoding="utf-8")
    report = analyze(load_spec(source))
    assert report.ok, [d.message for d in report.diagnostics]
    agree(export(tmp_path, str(source)), report, capsys)


def test_the_file_says_how_convcalc_notions_map(tmp_path: Path) -> None:
    source = tmp_path / "spec.yaml"
    source.write_text(FEATURES["same padding, ceil conv and pool"], encoding="utf-8")
    text = export(tmp_path, str(source)).read_text(encoding="utf-8")
    assert "`rounding: strict` is convcalc's check that every stride fits; PyTorch floors." in text
    assert "Uneven padding (TensorFlow's `same`) is an explicit F.pad before the layer." in text
    assert "`rounding: ceil` on a conv: padding at the end" in text
    assert 'value=float("-inf")' in text  # a max pool pads with -inf, as PyTorch's own padding does


# -- the command -------------------------------------------------------------------------------


def test_stdout_without_output_option() -> None:
    result = CliRunner().invoke(main, ["export", "lenet5"])
    assert result.exit_code == 0
    assert result.output.startswith('"""LeNet5: LeNet-5, exported by convcalc')
    assert result.output.endswith('print(f"params: {sum(p.numel() for p in model.parameters()):,}")\n')


def test_output_option_says_what_it_wrote(tmp_path: Path) -> None:
    out = tmp_path / "m.py"
    result = CliRunner().invoke(main, ["export", "vgg16", "-o", str(out)])
    assert result.exit_code == 0
    assert result.stderr == f"wrote {out}: class VGG16, 21 layers, 138,357,544 params; `python {out}` prints 1000\n"
    assert out.read_text(encoding="utf-8").startswith('"""VGG16, exported by convcalc')


def test_input_override(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch")
    path = export(tmp_path, "resnet18", "--input", "64x64x3")
    assert "torch.zeros(1, 3, 64, 64)" in path.read_text(encoding="utf-8")
    agree(path, analyze(load_spec(Path("specs/resnet18.yaml"))), capsys)  # 1000 classes at any size


def test_a_design_error_exports_nothing(tmp_path: Path) -> None:
    source = tmp_path / "bad.yaml"
    source.write_text("input: 7x7x3\nlayers:\n  - conv3-4 s3\n", encoding="utf-8")
    out = tmp_path / "m.py"
    result = CliRunner().invoke(main, ["export", str(source), "-o", str(out)])
    assert result.exit_code == 1
    assert "bad.yaml:3:5: error: (7 − 3)/3 + 1 = 2.33: the stride does not fit" in result.stderr
    assert "`--rounding floor` exports what PyTorch would do with it" in result.stderr
    assert not out.exists()
    floored = CliRunner().invoke(main, ["export", str(source), "--rounding", "floor"])
    assert floored.exit_code == 0
    assert "self.conv1 = nn.Conv2d(3, 4, 3, stride=3)" in floored.stdout


def test_unreadable_spec_and_unknown_target(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["export", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 2
    result = CliRunner().invoke(main, ["export", "vgg16", "--to", "tensorflow"])
    assert result.exit_code == 2
    assert "'tensorflow' is not 'pytorch'" in result.output


@pytest.mark.parametrize(
    ("spec_name", "expected"),
    [("ResNet-18", "ResNet18"), ("VGG16", "VGG16"), ("alexnet paper", "AlexnetPaper"), ("3d net", "Net3dNet")],
)
def test_class_names(spec_name: str, expected: str) -> None:
    assert class_name(spec_name) == expected


@pytest.mark.torch
def test_names_that_python_or_torch_reserve(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch")
    source = awkward_spec(tmp_path)
    path = export(tmp_path, source)
    text = path.read_text(encoding="utf-8")
    assert "class NoneNet(nn.Module):" in text  # `class None` would not parse
    assert '    """A "quoted" C:\\\\Nets\\\\unet, ending with \\"\\"" triple\\""""' in text
    for line in (
        "        self.class_ = nn.Linear(784, 100)\n",  # a keyword
        "        self.forward_ = nn.LocalResponseNorm(5)\n",  # nn.Module's own method
        "        self.training_ = nn.Linear(100, 10)\n",
        "        self.a_really_long_layer_name_that_goes_on_an = nn.Linear(10, 10)\n",  # cut to 40
        "        self.f = nn.Linear(10, 10)\n",
        "        self.réseau = nn.Linear(10, 10)\n",
        "        x = self.forward_(x.unsqueeze(-1)).squeeze(-1)\n",  # LRN wants N x C x ...
    ):
        assert line in text
    assert "x = x\n" not in text  # the identity writes nothing
    agree(path, analyze(load_spec(source)), capsys)


def test_class_name_never_shadows_the_file() -> None:
    assert [class_name(n) for n in ("F", "torch", "True", "réseau 2")] == ["FNet", "Torch", "TrueNet", "Réseau2"]


def test_output_to_stdout_and_unwritable_files(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["export", "lenet5", "-o", "-"])
    assert result.exit_code == 0
    assert result.stdout.startswith('"""LeNet5')
    assert not Path("-").exists()
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    for target in (tmp_path, tmp_path / "a-file" / "m.py"):
        result = CliRunner().invoke(main, ["export", "lenet5", "-o", str(target)])
        assert result.exit_code == 2
        assert result.stderr.startswith(f"error: cannot write {target}: ")


def test_failed_answers_do_not_stop_or_clutter_an_export(tmp_path: Path) -> None:
    source = tmp_path / "answers.yaml"
    source.write_text("input: 8x8x3\nlayers:\n  - conv3-4\nexpect: {params: 1}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["export", str(source), "-o", str(tmp_path / "m.py")])
    assert result.exit_code == 0
    out = tmp_path / "m.py"
    assert result.stderr == f"wrote {out}: class Answers, 1 layer, 112 params; `python {out}` prints 6x6x4\n"


# -- the exported file and to_module compute the same thing (issue 12) ----------------------------

VECTOR_LRN = "input: 784\nlayers: [fc-100, lrn]\n"  # PyTorch's LocalResponseNorm wants N x C x ...


def agree_with_to_module(spec: str, tmp_path: Path) -> None:
    """The exported module loads to_module's state_dict (strict) and gives the same outputs."""
    torch = pytest.importorskip("torch")
    from convcalc.pytorch import to_module  # noqa: PLC0415 - needs torch

    loaded = open_spec(spec)
    torch.manual_seed(0)
    built = to_module(loaded).module
    with torch.no_grad():  # batchnorms that are not the identity
        for name, value in built.state_dict().items():
            if name.endswith(("running_mean", "running_var")) or (value.dim() == 1 and value.is_floating_point()):
                value.uniform_(0.5, 1.5)
    exported = getattr(load(export(tmp_path, spec)), class_name(loaded.name))().eval()
    result = exported.load_state_dict(built.state_dict(), strict=True)
    assert (result.missing_keys, result.unexpected_keys) == ([], [])
    v = loaded.input
    x = torch.randn(2, v.depth, *v.spatial, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        want, got = built(x), exported(x)
    out = analyze(loaded).totals.output
    assert out is not None
    assert want.shape == got.shape == (2, out.depth, *out.spatial)  # and both have the report's shape
    assert torch.equal(want, got), float((want - got).abs().max())


@pytest.mark.torch
@pytest.mark.slow
@pytest.mark.parametrize("name", builtin_names())
def test_every_builtin_export_computes_what_to_module_computes(name: str, tmp_path: Path) -> None:
    agree_with_to_module(name, tmp_path)


@pytest.mark.torch
def test_lrn_on_a_vector_in_both(tmp_path: Path) -> None:
    source = tmp_path / "vector.yaml"
    source.write_text(VECTOR_LRN, encoding="utf-8")
    agree_with_to_module(str(source), tmp_path)
    assert "x = self.lrn1(x.unsqueeze(-1)).squeeze(-1)" in export(tmp_path, str(source)).read_text(encoding="utf-8")


@pytest.mark.torch
@pytest.mark.parametrize("case", sorted(FEATURES))
def test_features_export_computes_what_to_module_computes(case: str, tmp_path: Path) -> None:
    source = tmp_path / "spec.yaml"
    source.write_text(FEATURES[case], encoding="utf-8")
    agree_with_to_module(str(source), tmp_path)


def test_module_keys_and_dotted_names_nest(tmp_path: Path) -> None:
    source = tmp_path / "names.yaml"
    source.write_text(FEATURES["module: keys and dotted names"], encoding="utf-8")
    text = export(tmp_path, str(source)).read_text(encoding="utf-8")
    for line in (
        '        self.features["0"] = nn.Conv2d(3, 4, 3, padding=1)\n',
        '        self.features["2"] = nn.Conv2d(4, 4, 3, padding=1)\n',  # module: wins over name:
        '        self.stage["0"].norm = nn.BatchNorm2d(4)\n',  # a composite's module: is the prefix
        '        self.stage["0"].conv1 = nn.Conv2d(4, 4, 3, padding=1)\n',  # a name with no word: numbered
        "        self.head.out = nn.Linear(256, 2)\n",  # the dots of a name nest
    ):
        assert line in text
    assert analyze(load_spec(source)).rows[2].name == "shown"  # the table keeps its name


def test_a_module_key_must_be_names_joined_by_dots(tmp_path: Path) -> None:
    source = tmp_path / "bad.yaml"
    source.write_text("input: 4\nlayers:\n  - {layer: fc-2, module: features..0}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["show", str(source)])
    assert result.exit_code == 2
    assert "bad.yaml:3:27: error: module 'features..0' must be names joined by dots" in result.stderr
