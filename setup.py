"""Install the top-level folders as one namespace: core/ -> minqing.core, web/ -> minqing.web, ...

pyproject.toml holds all metadata; this file only computes the package list from the folder layout,
so a new sub-package needs no edit here.
"""
from pathlib import Path

from setuptools import setup

TOP_LEVEL = ("core", "forms", "workflows", "themes", "plugins", "web")
DATA_PATTERNS = ["*.json", "*.yaml", "*.ini", "*.mako", "*.html", "*.txt", "*.po", "*.mo", "*.css", "*.js",
                 "*.svg", "*.png"]


def discover():
    packages, package_dir, package_data = [], {}, {}
    for top in TOP_LEVEL:
        package_dir[f"minqing.{top}"] = top
        for init in sorted(Path(top).rglob("__init__.py")):
            name = "minqing." + ".".join(init.parent.parts)
            packages.append(name)
            package_data[name] = DATA_PATTERNS + ["templates/**/*", "static/**/*", "translations/**/*",
                                                  "data/**/*", "builtin/**/*"]
    return packages, package_dir, package_data


packages, package_dir, package_data = discover()
setup(packages=packages, package_dir=package_dir, package_data=package_data)
