"""The engine keys (``engine``, ``spark``) and ``run --engine``: checked at load, DuckDB by default, and the
default path never needs pyspark."""

from __future__ import annotations

import subprocess
import sys

import pytest

from crmlib.__main__ import main
from crmlib.core import params
from crmlib.errors import ParamsError
from tests.conftest import ROOT

MINIMAL = {"data": {"orders": {"path": "orders.csv"}}}


def test_duckdb_is_the_default_and_spark_has_documented_defaults():
    out = params.normalize(MINIMAL)
    assert out["engine"] == "duckdb"
    assert out["spark"] == {"master": "local[2]", "conf": {}}
    out = params.normalize({**MINIMAL, "engine": "spark", "spark": {"master": "spark://head:7077",
                                                                    "conf": {"spark.executor.memory": "8g"}}})
    assert out["engine"] == "spark" and out["spark"]["master"] == "spark://head:7077"
    assert out["spark"]["conf"] == {"spark.executor.memory": "8g"}


@pytest.mark.parametrize(("raw", "message"), [
    ({"engine": "sprak"}, r"Params key 'engine' must be 'duckdb' or 'spark', got 'sprak' \(did you mean 'spark'\?\)"),
    ({"spark": {"mastr": "local[2]"}}, r"Unknown params key 'spark\.mastr'\. Did you mean 'master'\?"),
    ({"spark": {"master": ""}}, r"Params key 'spark\.master' must be local\[N\] or a cluster URL"),
    ({"spark": {"conf": {"executor.memory": "8g"}}},
     r"Params key 'spark\.conf' must be a mapping of Spark configuration keys \(spark\.\*\) to values, got "
     r"\{'executor\.memory': '8g'\}\. For example: spark: \{conf: \{spark\.executor\.memory: 8g\}\}"),
])
def test_bad_engine_keys_are_one_message(raw, message):
    with pytest.raises(ParamsError, match=message):
        params.normalize({**MINIMAL, **raw})


def test_an_unknown_engine_exits_2_with_one_line(tmp_path, capsys):
    path = tmp_path / "p.yaml"
    path.write_text("engine: flink\ndata: {orders: orders.csv}\n", encoding="utf-8")
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Params key 'engine' must be 'duckdb' or 'spark', got 'flink'" in err[0]


def test_the_cli_refuses_an_unknown_engine_flag(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["run", "params/default.yaml", "--engine", "flink"])
    assert stop.value.code == 2
    assert "invalid choice: 'flink'" in capsys.readouterr().err


def test_spark_checks_a_csv_orders_file_with_the_usual_loader_before_starting(tmp_path, capsys):
    """A CSV orders file on Spark is read by the usual loader first: bad input exits 2 with DuckDB's message,
    before any Spark session starts."""
    (tmp_path / "orders.csv").write_text("customer_id;order_date;amount\nC1;2026-01-05;10\nC2;2026-01-06;abc\n",
                                         encoding="utf-8")
    path = tmp_path / "p.yaml"
    path.write_text("data: {orders: orders.csv}\n", encoding="utf-8")
    assert main(["run", str(path), "--engine", "duckdb", "--out", str(tmp_path / "duck")]) == 2
    duck = capsys.readouterr().err.strip().splitlines()
    assert main(["run", str(path), "--engine", "spark", "--out", str(tmp_path / "spark")]) == 2
    spark = capsys.readouterr().err.strip().splitlines()
    assert len(spark) == 1 and spark == duck and "orders.csv" in spark[0] and "'abc'" in spark[0]


def test_the_default_path_runs_without_pyspark():
    """With pyspark unimportable, crmlib's modules import and DuckDB builds the tables; only the Spark engine
    asks for pyspark."""
    code = (
        "import sys; sys.modules['pyspark'] = None\n"
        "import crmlib, crmlib.core.run, crmlib.core.context, crmlib.core.spark_context, crmlib.data.engine\n"
        "import pandas as pd\n"
        "from crmlib.data import tables\n"
        "lines = pd.DataFrame({'customer_id': ['C1'], 'order_id': ['O1'], 'order_date': pd.to_datetime(['2026-01-05']),"
        " 'amount': [10.0]})\n"
        "assert len(tables.build_customer_summary(tables.build_orders(lines), '2026-02-01')) == 1\n"
        "try:\n"
        "    crmlib.data.engine.open_engine({'engine': 'spark'})\n"
        "except ImportError:\n"
        "    print('spark needs pyspark')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "spark needs pyspark"
