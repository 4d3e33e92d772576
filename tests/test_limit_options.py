"""Command-line limits that would be no limit are refused (issue 22, D19); the largest prints exactly."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from convcalc.cli import main
from convcalc.cli.show import MAX_LIMIT


@pytest.mark.parametrize(
    ("size", "why"),
    [
        ("0", "'0' is 0 bytes, in which no batch fits: give a size from 1 B to 1,000 TB"),
        ("0GB", "'0GB' is 0 bytes, in which no batch fits: give a size from 1 B to 1,000 TB"),
        ("0.5", "'0.5' is 0.5 bytes: a size is a whole number of bytes"),
        ("1.0005kB", "'1.0005kB' is 1000.5 bytes: a size is a whole number of bytes"),
        ("1001TB", "'1001TB' is over 1,000 TB (1,000,000,000,000,000 B), the most --max-batch plans for"),
        ("9" * 40 + "TB", f"'{'9' * 40}TB' is over 1,000 TB (1,000,000,000,000,000 B), the most --max-batch plans for"),
    ],
)
def test_a_max_batch_that_is_no_limit_is_refused(size: str, why: str) -> None:
    result = CliRunner().invoke(main, ["show", "vgg16", "--max-batch", size])
    assert result.exit_code == 2
    assert result.stderr.endswith(f"Error: Invalid value for '--max-batch': {why}\n")


def test_the_largest_max_batch_prints_whole_numbers_not_float_artefacts() -> None:
    table = CliRunner().invoke(main, ["show", "lenet5", "--max-batch", "1000TB"])
    assert table.exit_code == 0, table.output
    block = table.stdout[table.stdout.index("max batch") :]
    assert re.match(r"max batch\s+[\d,]+ fits in 1000\.00 TB \(peak 1000\.00 TB;", block), block
    assert not re.search(r"\d{5,}\.\d", table.stdout)  # no 99999999999999996863366107917975552.00 TB
    data = json.loads(CliRunner().invoke(main, ["show", "lenet5", "--max-batch", "1000TB", "--format", "json"]).stdout)
    block = data["training"]["max_batch"]
    assert block["limit"] == MAX_LIMIT
    assert isinstance(block["batch"], int)
    assert block["batch"] > 10**9  # lenet5 at any batch a petabyte holds


def test_a_whole_number_of_bytes_in_any_unit_is_taken() -> None:
    result = CliRunner().invoke(main, ["show", "lenet5", "--max-batch", "1.5kB", "--format", "json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["training"]["max_batch"]["limit"] == 1500


def test_fit_list_with_min_over_max_is_refused() -> None:
    result = CliRunner().invoke(main, ["fit", "vgg16", "--list", "--min", "50", "--max", "10"])
    assert result.exit_code == 2
    assert result.stderr.endswith("Error: --min 50 is over --max 10: there is no size to try\n")
    one = CliRunner().invoke(main, ["fit", "vgg16", "--list", "--min", "32", "--max", "32"])
    assert one.exit_code == 0
    assert "1 of 1 square sizes from 32 to 32 fit:" in one.stdout
