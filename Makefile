# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export SMS_GATEWAY_DATABASE_URL ?= sqlite:///instance/sms_gateway.sqlite3

.PHONY: run test lint install migrate bench clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed

migrate: install
	mkdir -p instance
	$(BIN)/sms-gateway db upgrade

run: migrate
	$(BIN)/sms-gateway demo-login
	$(BIN)/sms-gateway demo-data
	$(BIN)/sms-gateway scheduler & trap 'kill $$!' EXIT INT TERM; \
	$(BIN)/sms-gateway serve --host 127.0.0.1 --port 5000 --workers 2

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check sms_gateway providers tests bench
	$(BIN)/mypy sms_gateway providers

bench: install
	$(BIN)/python bench/classify.py
	$(BIN)/python bench/statements.py
	$(BIN)/python bench/load.py
	$(BIN)/python bench/scale.py

clean:
	rm -rf $(VENV) instance *.egg-info
