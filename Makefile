# The two commands of the README:
#   make run   - install akhbar, replay the bundled seeds into archive.db, show a search,
#                then run the scheduler on the shipped sources.toml (Ctrl-C stops it)
#   make test  - install akhbar with its test tools and run the whole test suite
#   make bench - every benchmark of bench/: extraction quality and speed, dates, article parts, page
#                type, near-duplicates and search (20,000 articles each), crawl speed (3 rounds), CPU, memory and
#                duplicates against a plain Scrapy + trafilatura spider (1,000 pages), a memory soak
#                (SOAK_PAGES, 20,000 pages: about 20 minutes on 2 cores), 1, 2 and 4 distributed workers
#                on redis and PostgreSQL, and the archive writer's CPU per page (all on 127.0.0.1)
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

# Sizes that finish in minutes; the benchmarks take larger ones by hand (bench/*.py --help).
BENCH_ARTICLES ?= 20000
SOAK_PAGES ?= 20000

bench: install-test
	$(PYTHON) bench/extraction.py
	$(PYTHON) bench/dates.py
	$(PYTHON) bench/anatomy.py
	$(PYTHON) bench/pagetype.py
	$(PYTHON) bench/neardup.py --n $(BENCH_ARTICLES)
	$(PYTHON) bench/search.py --n $(BENCH_ARTICLES) --rounds 3
	$(PYTHON) bench/collapse.py --n $(BENCH_ARTICLES) --rounds 3
	$(PYTHON) bench/crawl.py --rounds 3
	$(PYTHON) bench/soak.py --pages $(SOAK_PAGES)
	$(PYTHON) bench/scale.py --search-n $(BENCH_ARTICLES)
	$(PYTHON) bench/writer.py

# Re-resolve requirements.lock from pyproject.toml (needs pip-tools: pip install pip-tools).
# Versions already in the lock are kept where they still fit; add --upgrade to move them.
lock:
	$(PYTHON) -m piptools compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links \
		--extra test --extra bench -o $(LOCK) pyproject.toml
