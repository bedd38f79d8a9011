"""A mutation fuzzer for ivcviewer's readers and command line.

It builds a corpus from the real public CT (``../shared/public_ct``), the small phantom and the
shipped case file, derives damaged inputs from it with seeded mutators, runs each command in a
forked child of one process that imported ivcviewer once (resource limits, a wall-clock timeout,
stdout and stderr captured), and checks every run against the input contract of
``docs/reliability.md``: exit 0 with a result, or exit 2 with one line naming the input, the
rule and the fix; no traceback, no hang, no crash, no memory blow-up, inputs unchanged.

Modules: :mod:`fuzz.corpus` (the seed inputs), :mod:`fuzz.mutators` (byte, header and text
mutations), :mod:`fuzz.cases` (one damaged input and its command per case number),
:mod:`fuzz.runner` (fork, limits, timeout), :mod:`fuzz.contract` (the checks),
:mod:`fuzz.campaign` (a run of many cases and its summary; ``python -m fuzz``).
"""
