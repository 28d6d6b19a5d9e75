# Everything a newcomer needs: `make demo` and `make test` set themselves up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXAMPLE := examples/case_handling.yaml
CASE := examples/business_case.yaml
SCENARIOS := examples/scenarios/business_case.yaml
OUT := out

.PHONY: setup demo test bench lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/ensure-*.sh
	./scripts/ensure-graphviz.sh
	./scripts/ensure-chromium.sh
	./scripts/ensure-chromedriver.sh
	./scripts/ensure-libreoffice.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -c "from assumption_graph.compile import kernel; print(f'kernel ready in {kernel.warm_up(pieces=True):.1f} s')"
	touch $(STAMP)

demo: setup
	mkdir -p $(OUT)
	$(BIN)/assumption-graph check $(EXAMPLE)
	$(BIN)/assumption-graph run $(EXAMPLE) -n 1000000 --seed 7 --json $(OUT)/case_handling.json
	$(BIN)/assumption-graph draw $(EXAMPLE) -o $(OUT)/case_handling.svg
	$(BIN)/assumption-graph draw $(EXAMPLE) -o $(OUT)/case_handling_overview.svg --level overview
	$(BIN)/assumption-graph check $(CASE)
	$(BIN)/assumption-graph run $(CASE) -n 1000000 --seed 7 --json $(OUT)/business_case.json
	$(BIN)/assumption-graph draw $(CASE) -o $(OUT)/business_case.svg
	$(BIN)/assumption-graph draw $(CASE) -o $(OUT)/business_case_phases.svg --group phase
	$(BIN)/assumption-graph sensitivity $(CASE) --output npv -n 200000 --seed 7 -o $(OUT)/npv_tornado.svg --variance-chart $(OUT)/npv_variance.svg --json $(OUT)/npv_sensitivity.json
	$(BIN)/assumption-graph export $(CASE) -n 200000 --seed 7 -o $(OUT)/business_case.xlsx --formulas
	$(BIN)/assumption-graph export $(CASE) -n 10000 --sipmath $(OUT)/business_case.sip.json
	$(BIN)/assumption-graph run $(CASE) -n 10000 --sip-library $(OUT)/business_case.sip.json --json $(OUT)/from_library.json
	$(BIN)/assumption-graph estimates $(CASE) -o $(OUT)/estimates.xlsx
	$(BIN)/assumption-graph report $(CASE) -n 1000000 --seed 7 -o $(OUT)/business_case.html
	$(BIN)/assumption-graph scenarios $(CASE) $(SCENARIOS) -n 1000000 --seed 7 --json $(OUT)/scenarios.json -o $(OUT)/scenarios.xlsx -o $(OUT)/scenarios.html
	$(BIN)/assumption-graph portfolio examples/portfolio/cases/*.yaml -n 200000 --seed 7 --json $(OUT)/portfolio.json -o $(OUT)/portfolio.html -o $(OUT)/portfolio.xlsx
	@echo "Wrote $(OUT)/case_handling.json, $(OUT)/case_handling.svg, $(OUT)/case_handling_overview.svg,"
	@echo "      $(OUT)/business_case.json, $(OUT)/business_case.svg (and _phases.svg), $(OUT)/business_case.xlsx (its Calculation sheet recalculates),"
	@echo "      $(OUT)/npv_tornado.svg, $(OUT)/npv_variance.svg, $(OUT)/npv_sensitivity.json,"
	@echo "      $(OUT)/business_case.sip.json (a SIPmath 3.0 library) and $(OUT)/from_library.json (a run from it),"
	@echo "      $(OUT)/estimates.xlsx (a sheet for collecting estimates; --update writes it back),"
	@echo "      $(OUT)/scenarios.json, .xlsx and .html (three scenarios against the base)"
	@echo "The HTML report: $(OUT)/business_case.html (open it in a browser; it prints to A4)"
	@echo "The portfolio of examples/portfolio/cases: $(OUT)/portfolio.html, .xlsx and .json"
	@echo "A live page that follows your edits: $(BIN)/assumption-graph serve $(CASE) (see the README)"

test: setup
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python -m benchmarks

lint: setup
	$(BIN)/ruff check assumption_graph tests benchmarks
	$(BIN)/mypy assumption_graph

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .hypothesis
