"""Which packages the distribution installs (the rest of the metadata is in pyproject.toml).

`jina` is the SDK users import, under Jina's own name on purpose. The gateway, the executor
runtime and the bridge live in the folders the layout gives them (services/, bridge/) but are
installed as `jina_mesh.services` and `jina_mesh.bridge`, so that no generic top-level name
(`services`, `bridge`) lands in site-packages next to a user's own packages.
"""

from setuptools import find_packages, setup

MAPPED = {"jina_mesh.services": "services", "jina_mesh.bridge": "bridge"}

packages = find_packages(include=["jina", "jina.*"])
for name, folder in MAPPED.items():
    packages += [name] + [f"{name}.{sub}" for sub in find_packages(folder)]

setup(packages=packages, package_dir=MAPPED)
