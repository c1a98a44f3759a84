# The two commands of the README:
#   make run   - install akhbar, replay the bundled seeds into archive.db, show a search,
#                then run the scheduler on the shipped sources.toml (Ctrl-C stops it)
#   make test  - install akhbar with its test tools and run the whole test suite
#   make bench - extraction quality and speed; crawl speed, CPU, memory and duplicates against a plain
#                Scrapy + trafilatura spider (1,000 pages); a 20,000-page memory soak (all on 127.0.0.1)
PYTHON ?= python3
PIP_FLAGS ?= -q --disable-pip-version-check

.PHONY: install install-test run test bench

install:
	$(PYTHON) -m pip install $(PIP_FLAGS) -e .

install-test:
	$(PYTHON) -m pip install $(PIP_FLAGS) -e '.[test,bench]'

run: install
	akhbar replay seeds/
	akhbar search "الاسد" --limit 5
	akhbar schedule --sources sources.toml

test: install-test
	$(PYTHON) -m pytest

bench: install-test
	$(PYTHON) bench/extraction.py
	$(PYTHON) bench/crawl.py
	$(PYTHON) bench/soak.py
