# The two commands of the README:
#   make run   - install akhbar, replay the bundled seeds into archive.db, show a search,
#                then run the scheduler on the shipped sources.toml (Ctrl-C stops it)
#   make test  - install akhbar with its test tools and run the whole test suite
#   make bench - extraction quality and speed; crawl speed, CPU, memory and duplicates against a plain
#                Scrapy + trafilatura spider (1,000 pages); a 20,000-page memory soak; 1, 2 and 4
#                distributed workers on redis and PostgreSQL (all on 127.0.0.1); the archive writer's CPU
#                per page
# Every step runs through $(PYTHON) (`make run PYTHON=.venv/bin/python` needs no activated venv
# and no `akhbar` on PATH). Dependencies come pinned from requirements.lock (see `make lock`).
PYTHON ?= python3
PIP_FLAGS ?= -q --disable-pip-version-check
AKHBAR = $(PYTHON) -m crawler.cli
LOCK = requirements.lock

.PHONY: install install-test run test typecheck bench lock

install:
	$(PYTHON) -m pip install $(PIP_FLAGS) -r $(LOCK)
	$(PYTHON) -m pip install $(PIP_FLAGS) --no-deps -e .

# The lock holds the test and bench tools too: one resolution, so `make run` and `make test`
# use the same versions of everything that shapes extraction output.
install-test: install

run: install
	$(AKHBAR) replay seeds/
	$(AKHBAR) search "الاسد" --limit 5
	$(AKHBAR) schedule --sources sources.toml

test: install-test
	$(PYTHON) -m mypy
	$(PYTHON) -m pytest

typecheck: install-test
	$(PYTHON) -m mypy

bench: install-test
	$(PYTHON) bench/extraction.py
	$(PYTHON) bench/crawl.py
	$(PYTHON) bench/soak.py
	$(PYTHON) bench/scale.py
	$(PYTHON) bench/writer.py

# Re-resolve requirements.lock from pyproject.toml (needs pip-tools: pip install pip-tools).
# Versions already in the lock are kept where they still fit; add --upgrade to move them.
lock:
	$(PYTHON) -m piptools compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links \
		--extra test --extra bench -o $(LOCK) pyproject.toml
