"""The demo city: Lanzhou at its real scale, built from a seed, as a plugin (`demo_city`: the `minqing demo`
command, plugin.py; `demo_publications`: its policies and service guides, publications.py).

The generator (geography.py, names.py, people.py, spec.py) makes the city; build.py writes its regions, grids and
staff roster as files and loads them through the importers a real city uses (city_files.py), then adds the grid
workforce and the base data in bulk (base_data.py). It imports only the public modules of docs/plugins.md.
"""
