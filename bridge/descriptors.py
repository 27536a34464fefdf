"""Where the bridge learns the gateway's RPCs: server reflection, or this package's compiled protos.

The `google.api.http` annotations travel inside the file descriptors, so a gateway whose protos
gain an annotated RPC gains an HTTP route without a bridge change.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import grpc
from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from jina.proto import jina_pb2

_SKIPPED_SERVICES = ("grpc.reflection.", "grpc.health.")


@dataclass(frozen=True)
class RpcMethod:
    service: str
    name: str
    input_type: str
    output_type: str
    client_streaming: bool = False
    server_streaming: bool = False

    @property
    def path(self) -> str:
        """The gRPC method path, e.g. /jina.JinaInfoRPC/_status."""
        return f"/{self.service}/{self.name}"


@dataclass(frozen=True)
class HttpBinding:
    rpc: RpcMethod
    verb: str
    template: str
    body: str
    response_body: str


def _rule_bindings(rpc: RpcMethod, rule: http_pb2.HttpRule) -> Iterable[HttpBinding]:
    pattern = rule.WhichOneof("pattern")
    if pattern == "custom":
        yield HttpBinding(rpc, rule.custom.kind.upper(), rule.custom.path, rule.body, rule.response_body)
    elif pattern is not None:
        yield HttpBinding(rpc, pattern.upper(), getattr(rule, pattern), rule.body, rule.response_body)
    for extra in rule.additional_bindings:
        yield from _rule_bindings(rpc, extra)


def http_bindings(files: Iterable[descriptor_pb2.FileDescriptorProto]) -> list[HttpBinding]:
    """Every (RPC, HTTP rule) pair annotated in the files, additional bindings included."""
    bindings = []
    for file in files:
        for service in file.service:
            full_service = f"{file.package}.{service.name}" if file.package else service.name
            if full_service.startswith(_SKIPPED_SERVICES):
                continue
            for method in service.method:
                if not method.options.HasExtension(annotations_pb2.http):
                    continue
                rpc = RpcMethod(
                    service=full_service,
                    name=method.name,
                    input_type=method.input_type.lstrip("."),
                    output_type=method.output_type.lstrip("."),
                    client_streaming=method.client_streaming,
                    server_streaming=method.server_streaming,
                )
                bindings.extend(_rule_bindings(rpc, method.options.Extensions[annotations_pb2.http]))
    return bindings


def compiled_files() -> list[descriptor_pb2.FileDescriptorProto]:
    """jina.proto and everything it imports, as compiled into this package."""
    out: dict[str, descriptor_pb2.FileDescriptorProto] = {}

    def add(file_descriptor) -> None:
        if file_descriptor.name in out:
            return
        for dependency in file_descriptor.dependencies:
            add(dependency)
        proto = descriptor_pb2.FileDescriptorProto()
        file_descriptor.CopyToProto(proto)
        out[file_descriptor.name] = descriptor_pb2.FileDescriptorProto.FromString(proto.SerializeToString())

    add(jina_pb2.DESCRIPTOR)
    return list(out.values())


async def reflected_files(channel: grpc.aio.Channel, timeout: float = 5.0) -> list[descriptor_pb2.FileDescriptorProto]:
    """Ask the server's reflection service for every service's file and their imports."""
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    call = stub.ServerReflectionInfo(timeout=timeout, wait_for_ready=True)
    files: dict[str, descriptor_pb2.FileDescriptorProto] = {}

    async def ask(**request) -> reflection_pb2.ServerReflectionResponse:
        await call.write(reflection_pb2.ServerReflectionRequest(**request))
        response = await call.read()
        if response is grpc.aio.EOF or response.HasField("error_response"):
            detail = "" if response is grpc.aio.EOF else response.error_response.error_message
            raise LookupError(f"reflection: {request}: {detail}")
        return response

    def keep(response: reflection_pb2.ServerReflectionResponse) -> list[str]:
        new = []
        for raw in response.file_descriptor_response.file_descriptor_proto:
            proto = descriptor_pb2.FileDescriptorProto.FromString(raw)
            if proto.name not in files:
                files[proto.name] = proto
                new.append(proto.name)
        return new

    try:
        services = await ask(list_services="")
        for service in services.list_services_response.service:
            if not service.name.startswith(_SKIPPED_SERVICES):
                keep(await ask(file_containing_symbol=service.name))
        missing = [d for f in list(files.values()) for d in f.dependency if d not in files]
        while missing:
            name = missing.pop()
            if name in files:
                continue
            for added in keep(await ask(file_by_filename=name)):
                missing.extend(d for d in files[added].dependency if d not in files)
        await call.done_writing()
    finally:
        call.cancel()
    return list(files.values())


class MessageTypes:
    """Message classes for the type names the files define (for generic JSON transcoding)."""

    def __init__(self, files: Sequence[descriptor_pb2.FileDescriptorProto]):
        self._pool = descriptor_pool.DescriptorPool()
        by_name = {f.name: f for f in files}
        added: set[str] = set()

        def add(name: str) -> None:
            if name in added or name not in by_name:
                return
            added.add(name)
            for dependency in by_name[name].dependency:
                add(dependency)
            self._pool.Add(by_name[name])

        for name in by_name:
            add(name)
        self._classes: dict[str, type] = {}

    def get(self, full_name: str) -> type:
        cls = self._classes.get(full_name)
        if cls is None:
            cls = message_factory.GetMessageClass(self._pool.FindMessageTypeByName(full_name))
            self._classes[full_name] = cls
        return cls


async def load_files(channel: grpc.aio.Channel, timeout: float) -> tuple[list[descriptor_pb2.FileDescriptorProto], str]:
    """(files, where they came from): reflection when the gateway answers in time, else compiled."""
    try:
        return await asyncio.wait_for(reflected_files(channel, timeout), timeout), "reflection"
    except (grpc.aio.AioRpcError, LookupError, asyncio.TimeoutError):
        return compiled_files(), "compiled"
