from __future__ import annotations

import io

import pytest

from jina import Executor, dynamic_batching, requests
from jina.excepts import BadConfig
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


def test_every_subclass_is_registered_by_name_and_the_latest_wins():
    def define():
        class Registered(Executor):
            pass

        return Registered

    first, second = define(), define()
    assert first is not second
    assert Executor.registered("Registered") is second
    assert Executor.registered("NoSuchExecutorAnywhere") is None


def test_jina_spelling_of_the_default_endpoint():
    class Spelled(Executor):
        @requests(on="/default")
        def fallback(self, docs, **kwargs):
            pass

    assert Spelled().handler_for("/anything").method_name == "fallback"
    assert set(Spelled.endpoint_table()) == {DEFAULT_ENDPOINT}


class Moves(Executor):
    @requests(on="/a")
    def a(self, **kwargs):
        pass

    @requests(on=["/b", "/c"])
    def b(self, **kwargs):
        pass

    @requests
    def d(self, **kwargs):
        pass

    def plain(self, **kwargs):
        pass


def bindings(executor: Executor) -> dict[str, str]:
    return {endpoint: handler.method_name for endpoint, handler in executor.requests.items()}


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        # as Jina: the method moves to the new endpoint, the other bindings stay
        ({"/x": "a"}, {"/b": "b", "/c": "b", DEFAULT_ENDPOINT: "d", "/x": "a"}),
        # an undecorated method can be bound; it takes the endpoint over
        ({"/b": "plain"}, {"/a": "a", "/b": "plain", "/c": "b", DEFAULT_ENDPOINT: "d"}),
        # Jina's `/default` is the default binding; its dry-run entry (in YAML Jina saved) is ignored
        ({"/default": "a", "_jina_dry_run_": "_dry_run_func"}, {"/b": "b", "/c": "b", DEFAULT_ENDPOINT: "a"}),
        # a method bound to several endpoints moves from all of them (Jina drops only its last one)
        ({"/x": "b"}, {"/a": "a", DEFAULT_ENDPOINT: "d", "/x": "b"}),
    ],
)
def test_uses_requests_overrides_the_endpoint_map(overrides, expected):
    assert bindings(build_executor(Moves, requests=overrides)) == expected
    assert bindings(Moves(requests=overrides)) == expected
    assert bindings(Moves()) == {"/a": "a", "/b": "b", "/c": "b", DEFAULT_ENDPOINT: "d"}  # per instance


def test_uses_requests_naming_an_unknown_method_is_a_clear_error():
    with pytest.raises(BadConfig) as info:
        build_executor(Moves, requests={"/x": "nope"})
    assert str(info.value) == (
        "uses_requests: Moves has no method 'nope' (for endpoint '/x'); its methods: a, b, d, plain"
    )


def test_runtime_args_and_metas_outside_a_runtime():
    executor = Moves()
    assert executor.metas.name == "Moves"
    rt = executor.runtime_args
    assert (rt.name, rt.replicas, rt.shards, rt.shard_id, rt.workspace) == ("Moves", 1, 1, None, None)


def test_workspace_layout_as_jina_lays_it_out(tmp_path, monkeypatch):
    served = build_executor(
        Moves, metas={"name": "idx"}, runtime_args={"workspace": str(tmp_path / "ws"), "shard_id": 1}
    )
    assert served.workspace == str(tmp_path / "ws" / "idx" / "1")
    assert (tmp_path / "ws" / "idx" / "1").is_dir()  # created on first use
    # outside a runtime there is no shard level; then metas.workspace, then __init__(workspace=...)
    assert build_executor(Moves, metas={"workspace": str(tmp_path / "m")}).workspace == str(tmp_path / "m" / "Moves")
    assert Moves(workspace=str(tmp_path / "i")).workspace == str(tmp_path / "i" / "Moves")
    relative = build_executor(Moves, runtime_args={"workspace": "rel", "shard_id": 0})
    monkeypatch.chdir(tmp_path)
    assert relative.workspace == str(tmp_path / "rel" / "Moves" / "0")


class Batches(Executor):
    @requests(on="/x")
    @dynamic_batching(preferred_batch_size=4, timeout=20)
    def below(self, docs, **kwargs):
        pass

    @dynamic_batching(preferred_batch_size=2)
    @requests(on="/y")
    def above(self, docs, **kwargs):
        pass


def test_dynamic_batching_goes_above_or_below_requests_and_is_overridden_per_instance():
    assert set(Batches.endpoint_table()) == {"/x", "/y"}
    table = Batches.batching_table()
    assert (table["below"]["preferred_batch_size"], table["below"]["timeout"]) == (4, 20)
    assert (table["above"]["preferred_batch_size"], table["above"]["timeout"]) == (2, 10_000)
    executor = build_executor(Batches, dynamic_batching={"below": {"timeout": 5}, "/y": {"timeout": 1}})
    assert executor.dynamic_batching["below"]["preferred_batch_size"] == 4  # merged key by key
    assert executor.dynamic_batching["below"]["timeout"] == 5
    assert executor.dynamic_batching["/y"] == {"timeout": 1}
    assert Batches().dynamic_batching["below"]["timeout"] == 20


def test_load_config_from_a_file_with_py_modules_metas_requests(tmp_path):
    (tmp_path / "my_module.py").write_text(
        "from jina import Executor, requests\n"
        "class FromFile(Executor):\n"
        "    def __init__(self, size=1, **kwargs):\n"
        "        super().__init__(**kwargs)\n"
        "        self.size = size\n"
        "    @requests\n"
        "    def encode(self, docs, **kwargs):\n"
        "        pass\n"
        "    def search(self, docs, **kwargs):\n"
        "        pass\n"
    )
    (tmp_path / "exec.yml").write_text(
        "jtype: FromFile\nwith:\n  size: 3\nmetas:\n  name: enc\n  description: d\npy_modules:\n  - my_module.py\n"
        "requests:\n  /search: search\n"
    )
    loaded = Executor.load_config(str(tmp_path / "exec.yml"))
    assert type(loaded).__name__ == "FromFile" and loaded.size == 3
    assert (loaded.metas.name, loaded.metas.description) == ("enc", "d")
    assert bindings(loaded) == {DEFAULT_ENDPOINT: "encode", "/search": "search"}
    overridden = Executor.load_config(
        tmp_path / "exec.yml",
        uses_with={"size": 5},
        uses_metas={"name": "other"},
        uses_requests={"/find": "search"},
        runtime_args={"shard_id": 2, "workspace": str(tmp_path)},
    )
    assert (overridden.size, overridden.metas.name, overridden.metas.description) == (5, "other", "d")
    # uses_requests adds to the YAML's `requests` (Jina updates that section with it)
    assert bindings(overridden) == {DEFAULT_ENDPOINT: "encode", "/search": "search", "/find": "search"}
    assert overridden.workspace == str(tmp_path / "other" / "2")


@pytest.mark.parametrize(
    "source",
    [
        "jtype: WithArgs\nwith: {size: 4}\nmetas: {name: named}",
        "!WithArgs\nwith: {size: 4}\nmetas: {name: named}",  # Jina's older tag form
        {"jtype": "WithArgs", "with": {"size": 4}, "metas": {"name": "named"}},
        io.StringIO("jtype: tests.jina.test_executor.WithArgs\nwith: {size: 4}\nmetas: {name: named}"),
    ],
)
def test_load_config_from_a_string_a_mapping_or_a_stream(source):
    loaded = WithArgs.load_config(source)
    assert type(loaded) is WithArgs and loaded.size == 4 and loaded.metas.name == "named"


def test_load_config_of_a_class_name_and_of_the_wrong_class():
    assert type(Executor.load_config("WithArgs")) is WithArgs
    assert type(Executor.load_config("tests.jina.test_executor.NoSuper")) is NoSuper
    with pytest.raises(BadConfig, match="NoSuper is not a WithArgs"):
        WithArgs.load_config("NoSuper")
    with pytest.raises(BadConfig, match="no Executor class named 'Missing'"):
        Executor.load_config("jtype: Missing")
    with pytest.raises(BadConfig, match=r"unknown key\(s\) \['uses'\]"):
        Executor.load_config("jtype: WithArgs\nuses: x")


def test_load_config_substitutes_environment_and_context(monkeypatch):
    monkeypatch.setenv("EXEC_SIZE", "7")
    monkeypatch.setenv("EXEC_NAME", "from-env")
    source = "jtype: WithArgs\nwith:\n  size: ${{ ENV.EXEC_SIZE }}\nmetas:\n  name: $EXEC_NAME-${{ CONTEXT.suffix }}"
    loaded = Executor.load_config(source, context={"suffix": "ctx"})
    assert loaded.size == 7
    assert loaded.metas.name == "from-env-ctx"
    monkeypatch.delenv("EXEC_SIZE")
    with pytest.raises(BadConfig, match=r"\$\{\{ ENV.EXEC_SIZE \}\} is used but EXEC_SIZE is not set"):
        Executor.load_config(source, context={"suffix": "ctx"})
    assert Executor.load_config(source, substitute=False).metas.name.startswith("$EXEC_NAME")
