# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export SMS_GATEWAY_DATABASE_URL ?= sqlite:///instance/sms_gateway.sqlite3

.PHONY: run test lint install migrate bench clean

$(BIN)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing into $(VENV) (a minute the first time)…"
	@$(BIN)/pip install --quiet --upgrade pip 2>&1 | grep -v "^WARNING" || true
	@$(BIN)/pip install --quiet -e '.[test]' 2>&1 | grep -iE "error|failed" || true
	@$(BIN)/python -c "import sms_gateway.web" && touch $@

install: $(BIN)/.installed

migrate: install
	@mkdir -p instance
	@SMS_GATEWAY_LOG_LEVEL=warning $(BIN)/sms-gateway db upgrade

# The demo: its password is kept in instance/demo-login.txt (readable by you only) and shown at every start.
run: migrate
	@SMS_GATEWAY_LOG_LEVEL=warning $(BIN)/sms-gateway demo-data
	@SMS_GATEWAY_LOG_LEVEL=warning $(BIN)/sms-gateway demo-login --save instance/demo-login.txt >/dev/null
	@SMS_GATEWAY_LOG_LEVEL=warning SMS_GATEWAY_LOG_FORMAT=text $(BIN)/sms-gateway scheduler & trap 'kill $$!' EXIT INT TERM; \
	SMS_GATEWAY_LOG_LEVEL=warning SMS_GATEWAY_LOG_FORMAT=text $(BIN)/sms-gateway serve --host 127.0.0.1 \
	  --port $(PORT) --workers 2 --login-hint instance/demo-login.txt

# The suite on every core (tests are spread by file), then the few that must run alone.
test: install
	$(BIN)/python -m pytest -q -n auto --dist loadfile -m "not serial"
	$(BIN)/python -m pytest -q -m serial

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
