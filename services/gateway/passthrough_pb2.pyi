from google.protobuf import struct_pb2 as _struct_pb2
from jina.proto import jina_pb2 as _jina_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PassthroughRequest(_message.Message):
    __slots__ = ("header", "parameters", "routes", "data")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    ROUTES_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    header: _jina_pb2.HeaderProto
    parameters: _struct_pb2.Struct
    routes: _containers.RepeatedCompositeFieldContainer[_jina_pb2.RouteProto]
    data: bytes
    def __init__(self, header: _Optional[_Union[_jina_pb2.HeaderProto, _Mapping]] = ..., parameters: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., routes: _Optional[_Iterable[_Union[_jina_pb2.RouteProto, _Mapping]]] = ..., data: _Optional[bytes] = ...) -> None: ...

class PassthroughRequestList(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[PassthroughRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[PassthroughRequest, _Mapping]]] = ...) -> None: ...
