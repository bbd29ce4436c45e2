# Customer-analytics workbook. `make` alone lists the targets.
PY      := .venv/bin/python
PARAMS  ?= params/default.yaml
SAMPLE  := data/sample/orders.csv

.DEFAULT_GOAL := help
.PHONY: help venv kernel sample run run-tr validate test test-slow test-spark lint strip bench bench-full bench-engines lab clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

.venv/.installed: pyproject.toml
	python3 -m venv .venv
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name crmlib --display-name "Python 3 (crmlib)" >/dev/null
	touch $@

venv: .venv/.installed ## create .venv and install the workbook with its dependencies

kernel: venv ## register the notebooks' kernel `crmlib` user-wide, for a JupyterLab outside .venv
	$(PY) -m ipykernel install --user --name crmlib --display-name "Python 3 (crmlib)"

$(SAMPLE): | .venv/.installed
	$(PY) -m crmlib sample --out data/sample

sample: $(SAMPLE) ## write the synthetic sample data to data/sample/ (if absent)

run: venv sample ## run every notebook on PARAMS (default params/default.yaml) and print where the report is
	$(PY) -m crmlib run $(PARAMS)

run-tr: venv sample ## the same in Turkish (params/sample_tr.yaml)
	$(PY) -m crmlib run params/sample_tr.yaml

validate: venv sample ## check the data of PARAMS and print what was found
	$(PY) -m crmlib validate $(PARAMS)

test: venv ## lint, check the layer rules (import-linter) and run the test suite (slow scale tests excluded; the 15 slowest named)
	$(PY) -m ruff check crmlib tests benchmarks
	.venv/bin/lint-imports
	$(PY) -m pytest -q --durations=15

test-slow: venv ## run only the slow scale tests
	$(PY) -m pytest -q -m slow

.venv/.spark: .venv/.installed
	$(PY) -m pip install --quiet -e '.[spark]'
	touch $@

test-spark: .venv/.spark ## the engine-parity tests: Spark against DuckDB on the sample (pyspark and Java 17)
	$(PY) -m pytest -q -m spark tests/spark

lint: venv ## ruff
	$(PY) -m ruff check crmlib tests benchmarks

strip: venv ## remove outputs from the committed notebooks
	$(PY) -m crmlib.core.notebooks strip notebooks/*.ipynb

benchmarks/data/orders.parquet: | .venv/.installed
	$(PY) benchmarks/make_big_data.py

bench: venv benchmarks/data/orders.parquet ## run the benchmarks (10M order lines load; 1M-customer CLV fit)
	$(PY) benchmarks/bench_load.py
	$(PY) benchmarks/bench_clv.py --customers 1000000 --design both

benchmarks/data-clv/params.yaml: | .venv/.installed
	$(PY) benchmarks/make_big_data.py --lines 2800000 --customers 2600000 --lines-per-order 1 --no-csv \
		--out benchmarks/data-clv

bench-full: venv benchmarks/data/orders.parquet benchmarks/data-clv/params.yaml ## whole weekly run on 10M lines; CLV notebook at ~1M customers vs plain lifetimes; loader vs DuckDB
	$(PY) benchmarks/bench_run.py --data benchmarks/data
	$(PY) benchmarks/bench_clv_run.py --data benchmarks/data-clv --repeat 3
	$(PY) benchmarks/bench_load.py --only baseline_read_parquet baseline_duckdb_aggregate load_parquet load_parquet_tables

bench-engines: venv benchmarks/data/orders.parquet .venv/.spark ## the SQL part (orders, per-customer table) on DuckDB and on Spark, same data; prints the ratio
	$(PY) benchmarks/bench_engines.py --data benchmarks/data

lab: venv sample ## open JupyterLab on the notebooks (Run All uses params/default.yaml and the sample)
	.venv/bin/jupyter lab --ServerApp.root_dir=notebooks

clean: ## remove the virtual environment, caches and generated data (keeps reports/)
	rm -rf .venv .pytest_cache .ruff_cache data build *.egg-info
