from __future__ import annotations

import pytest

from jina import Executor, requests
from jina.executor import DEFAULT_ENDPOINT, build_executor, normalize_endpoint


class Multi(Executor):
    @requests
    def default(self, docs, **kwargs):
        pass

    @requests(on="/index")
    def index(self, docs, **kwargs):
        pass

    @requests(on=["/a", "b"])
    async def many(self, docs, parameters):
        pass


class Child(Multi):
    @requests(on="/index")
    def index(self, docs, **kwargs):  # overrides the parent's binding
        pass


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, "/"),
        ("", "/"),
        ("/", "/"),
        ("/index", "/index"),
        ("index", "/index"),
        (DEFAULT_ENDPOINT, DEFAULT_ENDPOINT),
    ],
)
def test_normalize_endpoint(given, expected):
    assert normalize_endpoint(given) == expected


def test_requests_binds_default_named_and_lists():
    table = Multi.endpoint_table()
    assert set(table) == {DEFAULT_ENDPOINT, "/index", "/a", "/b"}
    assert table["/a"].method_name == "many" and table["/a"].is_async
    assert not table["/index"].is_async


def test_handler_for_falls_back_to_default():
    executor = Multi()
    assert executor.handler_for("/index").method_name == "index"
    assert executor.handler_for("/anything").method_name == "default"
    assert Executor().handler_for("/index") is None


def test_subclass_binding_wins():
    assert Child.endpoint_table()["/index"].method_name == "index"
    assert Child.endpoint_table()[DEFAULT_ENDPOINT].method_name == "default"


def test_select_kwargs_passes_only_declared_without_var_kwargs():
    handler = Multi.endpoint_table()["/a"]
    assert handler.select_kwargs({"docs": 1, "parameters": 2, "docs_matrix": 3}) == {"docs": 1, "parameters": 2}
    handler = Multi.endpoint_table()["/index"]
    assert handler.select_kwargs({"docs": 1, "extra": 2}) == {"docs": 1, "extra": 2}


def test_requests_rejects_empty_list_and_non_callable():
    with pytest.raises(ValueError):
        requests(on=[])
    with pytest.raises(TypeError):
        requests("not a function")


class WithArgs(Executor):
    def __init__(self, size: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.size = size


class NoSuper(Executor):
    def __init__(self, size: int = 1):
        self.size = size


def test_build_executor_binds_metas_before_init_and_passes_uses_with():
    ex = build_executor(WithArgs, {"size": 3}, metas={"name": "enc"}, runtime_args={"port": 1234})
    assert ex.size == 3
    assert ex.metas.name == "enc"
    assert ex.runtime_args.port == 1234
    plain = build_executor(NoSuper, {"size": 2}, metas={"name": "nosuper"})
    assert plain.metas.name == "nosuper" and plain.size == 2


def test_metas_default_to_class_name():
    assert WithArgs().metas.name == "WithArgs"
    assert WithArgs(metas={"name": "given"}).metas.name == "given"


def test_build_executor_rejects_non_executor():
    with pytest.raises(TypeError):
        build_executor(dict)
