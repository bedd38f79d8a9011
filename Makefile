# Set-up and the two main commands. `make demo` runs the main job; `make test` runs the tests.
# Both create .venv, install the package with everything it needs and, as root on Debian/Ubuntu,
# the system packages napari needs for a (virtual) display.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
OUT ?= ivcviewer-demo
SYSTEM_PACKAGES := xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-xinerama0 libgl1 \
	libgl1-mesa-dri libegl1 libglx-mesa0 libxkbcommon-x11-0 libxcb-image0 libxcb-randr0 \
	libxcb-render-util0 libxcb-shape0 libxcb-xfixes0 libxcb-xkb1 libxcb-cursor0 libfontconfig1 \
	libdbus-1-3 libglib2.0-0 python3-venv dicom3tools dcmtk orthanc orthanc-dicomweb

.PHONY: demo test system setup lint typecheck bench docs-figures clean

demo: setup
	$(VENV)/bin/ivcviewer demo --out $(OUT)

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

setup: system $(VENV)/.installed

system:
	@bash scripts/system-packages.sh $(SYSTEM_PACKAGES)

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[napari,dev]'
	touch $@

lint: setup
	$(VENV)/bin/ruff check src tests benchmarks

typecheck: setup
	$(VENV)/bin/mypy src/ivcviewer

bench: setup
	for b in benchmarks/bench_*.py; do $(PY) $$b || exit 1; done

docs-figures: setup
	$(PY) scripts/render_figures.py
	$(PY) scripts/render_measure_figures.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
