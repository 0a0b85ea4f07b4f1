# The two commands a new user needs (see README): `make run` and `make test`.
.PHONY: run test setup lint clean package

run:        ## set everything up and launch the app
	bash scripts/run.sh

test:       ## set everything up and run the whole test suite (lint, types, layers, pytest)
	bash scripts/test.sh

setup:      ## only install (system packages when root, .venv, project extras)
	bash scripts/setup.sh

package:    ## build the one-folder bundle dist/Workbench/ (app + engine + llama.cpp + model)
	bash scripts/package.sh

lint:
	.venv/bin/ruff check src tests benchmarks && .venv/bin/ruff format --check src tests benchmarks && .venv/bin/mypy && .venv/bin/lint-imports

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache build dist
