"""The apps benchmarked by bench/inprocess.py, bench/servers.py and bench/memory.py.

One module per framework; each has ``build(scenario)`` returning an app for one scenario (or
raising :class:`~apps.common.NotSupported` with the reason). ``registry`` lists them.
"""
