# make plots: PNG plots of the logs `make bench` left in build/bench/
# (tools/tide-trace, docs/trace.md), written to build/plots/:
#   <log>-memory.png  resident and swapped memory per guest (sample: lines)
#   <log>-rates.png   stage-2 fault and swap rates
#   hints.png         the free-page hint experiment, hints on vs off
# A log without samples or trace records gets no plot (tide-trace says so).
# Runs nothing else first: `make bench` has to have run.
# Included by the top Makefile.

PYTHON      ?= python3
BUILD       ?= build
PLOTS_BENCH  = $(BUILD)/bench
PLOTS_OUT    = $(BUILD)/plots

.PHONY: plots
plots:
	@if [ ! -d $(PLOTS_BENCH) ] || [ -z "$$(ls $(PLOTS_BENCH)/*.log 2>/dev/null)" ]; then \
		echo "plots: no logs in $(PLOTS_BENCH)/: run make bench first" >&2; exit 1; fi
	$(PYTHON) tools/tide-trace plot $(PLOTS_BENCH)/*.log -o $(PLOTS_OUT)
	@if [ ! -f $(PLOTS_BENCH)/hints.txt ]; then \
		echo "plots: no $(PLOTS_BENCH)/hints.txt: run make bench first" >&2; exit 1; fi
	$(PYTHON) tools/tide-trace hints $(PLOTS_BENCH)/hints.txt -o $(PLOTS_OUT)
