from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from jina.proto import docarray_pb2 as _docarray_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RouteProto(_message.Message):
    __slots__ = ("executor", "start_time", "end_time", "status")
    EXECUTOR_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    executor: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    status: StatusProto
    def __init__(self, executor: _Optional[str] = ..., start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., status: _Optional[_Union[StatusProto, _Mapping]] = ...) -> None: ...

class JinaInfoProto(_message.Message):
    __slots__ = ("jina", "envs")
    class JinaEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class EnvsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    JINA_FIELD_NUMBER: _ClassVar[int]
    ENVS_FIELD_NUMBER: _ClassVar[int]
    jina: _containers.ScalarMap[str, str]
    envs: _containers.ScalarMap[str, str]
    def __init__(self, jina: _Optional[_Mapping[str, str]] = ..., envs: _Optional[_Mapping[str, str]] = ...) -> None: ...

class HeaderProto(_message.Message):
    __slots__ = ("request_id", "status", "exec_endpoint", "target_executor", "timeout")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    EXEC_ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    TARGET_EXECUTOR_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    status: StatusProto
    exec_endpoint: str
    target_executor: str
    timeout: int
    def __init__(self, request_id: _Optional[str] = ..., status: _Optional[_Union[StatusProto, _Mapping]] = ..., exec_endpoint: _Optional[str] = ..., target_executor: _Optional[str] = ..., timeout: _Optional[int] = ...) -> None: ...

class EndpointsProto(_message.Message):
    __slots__ = ("endpoints", "write_endpoints", "schemas")
    ENDPOINTS_FIELD_NUMBER: _ClassVar[int]
    WRITE_ENDPOINTS_FIELD_NUMBER: _ClassVar[int]
    SCHEMAS_FIELD_NUMBER: _ClassVar[int]
    endpoints: _containers.RepeatedScalarFieldContainer[str]
    write_endpoints: _containers.RepeatedScalarFieldContainer[str]
    schemas: _struct_pb2.Struct
    def __init__(self, endpoints: _Optional[_Iterable[str]] = ..., write_endpoints: _Optional[_Iterable[str]] = ..., schemas: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class StatusProto(_message.Message):
    __slots__ = ("code", "description", "exception")
    class StatusCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        SUCCESS: _ClassVar[StatusProto.StatusCode]
        ERROR: _ClassVar[StatusProto.StatusCode]
    SUCCESS: StatusProto.StatusCode
    ERROR: StatusProto.StatusCode
    class ExceptionProto(_message.Message):
        __slots__ = ("name", "args", "stacks", "executor")
        NAME_FIELD_NUMBER: _ClassVar[int]
        ARGS_FIELD_NUMBER: _ClassVar[int]
        STACKS_FIELD_NUMBER: _ClassVar[int]
        EXECUTOR_FIELD_NUMBER: _ClassVar[int]
        name: str
        args: _containers.RepeatedScalarFieldContainer[str]
        stacks: _containers.RepeatedScalarFieldContainer[str]
        executor: str
        def __init__(self, name: _Optional[str] = ..., args: _Optional[_Iterable[str]] = ..., stacks: _Optional[_Iterable[str]] = ..., executor: _Optional[str] = ...) -> None: ...
    CODE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    EXCEPTION_FIELD_NUMBER: _ClassVar[int]
    code: StatusProto.StatusCode
    description: str
    exception: StatusProto.ExceptionProto
    def __init__(self, code: _Optional[_Union[StatusProto.StatusCode, str]] = ..., description: _Optional[str] = ..., exception: _Optional[_Union[StatusProto.ExceptionProto, _Mapping]] = ...) -> None: ...

class RelatedEntity(_message.Message):
    __slots__ = ("id", "address", "port", "shard_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    SHARD_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    address: str
    port: int
    shard_id: int
    def __init__(self, id: _Optional[str] = ..., address: _Optional[str] = ..., port: _Optional[int] = ..., shard_id: _Optional[int] = ...) -> None: ...

class DataRequestProto(_message.Message):
    __slots__ = ("header", "parameters", "routes", "data")
    class DataContentProto(_message.Message):
        __slots__ = ("docs", "docs_bytes")
        DOCS_FIELD_NUMBER: _ClassVar[int]
        DOCS_BYTES_FIELD_NUMBER: _ClassVar[int]
        docs: _docarray_pb2.DocumentArrayProto
        docs_bytes: bytes
        def __init__(self, docs: _Optional[_Union[_docarray_pb2.DocumentArrayProto, _Mapping]] = ..., docs_bytes: _Optional[bytes] = ...) -> None: ...
    HEADER_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    ROUTES_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    header: HeaderProto
    parameters: _struct_pb2.Struct
    routes: _containers.RepeatedCompositeFieldContainer[RouteProto]
    data: DataRequestProto.DataContentProto
    def __init__(self, header: _Optional[_Union[HeaderProto, _Mapping]] = ..., parameters: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., routes: _Optional[_Iterable[_Union[RouteProto, _Mapping]]] = ..., data: _Optional[_Union[DataRequestProto.DataContentProto, _Mapping]] = ...) -> None: ...

class SingleDocumentRequestProto(_message.Message):
    __slots__ = ("header", "parameters", "routes", "document")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    ROUTES_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    header: HeaderProto
    parameters: _struct_pb2.Struct
    routes: _containers.RepeatedCompositeFieldContainer[RouteProto]
    document: _docarray_pb2.DocumentProto
    def __init__(self, header: _Optional[_Union[HeaderProto, _Mapping]] = ..., parameters: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., routes: _Optional[_Iterable[_Union[RouteProto, _Mapping]]] = ..., document: _Optional[_Union[_docarray_pb2.DocumentProto, _Mapping]] = ...) -> None: ...

class DataRequestProtoWoData(_message.Message):
    __slots__ = ("header", "parameters", "routes")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    ROUTES_FIELD_NUMBER: _ClassVar[int]
    header: HeaderProto
    parameters: _struct_pb2.Struct
    routes: _containers.RepeatedCompositeFieldContainer[RouteProto]
    def __init__(self, header: _Optional[_Union[HeaderProto, _Mapping]] = ..., parameters: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., routes: _Optional[_Iterable[_Union[RouteProto, _Mapping]]] = ...) -> None: ...

class DataRequestListProto(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[DataRequestProto]
    def __init__(self, requests: _Optional[_Iterable[_Union[DataRequestProto, _Mapping]]] = ...) -> None: ...

class SnapshotId(_message.Message):
    __slots__ = ("value",)
    VALUE_FIELD_NUMBER: _ClassVar[int]
    value: str
    def __init__(self, value: _Optional[str] = ...) -> None: ...

class RestoreId(_message.Message):
    __slots__ = ("value",)
    VALUE_FIELD_NUMBER: _ClassVar[int]
    value: str
    def __init__(self, value: _Optional[str] = ...) -> None: ...

class SnapshotStatusProto(_message.Message):
    __slots__ = ("id", "status", "snapshot_file")
    class Status(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[SnapshotStatusProto.Status]
        QUEUED: _ClassVar[SnapshotStatusProto.Status]
        SCHEDULED: _ClassVar[SnapshotStatusProto.Status]
        RUNNING: _ClassVar[SnapshotStatusProto.Status]
        SUCCEEDED: _ClassVar[SnapshotStatusProto.Status]
        FAILED: _ClassVar[SnapshotStatusProto.Status]
        NOT_FOUND: _ClassVar[SnapshotStatusProto.Status]
    STATE_UNSPECIFIED: SnapshotStatusProto.Status
    QUEUED: SnapshotStatusProto.Status
    SCHEDULED: SnapshotStatusProto.Status
    RUNNING: SnapshotStatusProto.Status
    SUCCEEDED: SnapshotStatusProto.Status
    FAILED: SnapshotStatusProto.Status
    NOT_FOUND: SnapshotStatusProto.Status
    ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FILE_FIELD_NUMBER: _ClassVar[int]
    id: SnapshotId
    status: SnapshotStatusProto.Status
    snapshot_file: str
    def __init__(self, id: _Optional[_Union[SnapshotId, _Mapping]] = ..., status: _Optional[_Union[SnapshotStatusProto.Status, str]] = ..., snapshot_file: _Optional[str] = ...) -> None: ...

class RestoreSnapshotStatusProto(_message.Message):
    __slots__ = ("id", "status")
    class Status(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[RestoreSnapshotStatusProto.Status]
        RUNNING: _ClassVar[RestoreSnapshotStatusProto.Status]
        SUCCEEDED: _ClassVar[RestoreSnapshotStatusProto.Status]
        FAILED: _ClassVar[RestoreSnapshotStatusProto.Status]
        NOT_FOUND: _ClassVar[RestoreSnapshotStatusProto.Status]
    STATE_UNSPECIFIED: RestoreSnapshotStatusProto.Status
    RUNNING: RestoreSnapshotStatusProto.Status
    SUCCEEDED: RestoreSnapshotStatusProto.Status
    FAILED: RestoreSnapshotStatusProto.Status
    NOT_FOUND: RestoreSnapshotStatusProto.Status
    ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    id: RestoreId
    status: RestoreSnapshotStatusProto.Status
    def __init__(self, id: _Optional[_Union[RestoreId, _Mapping]] = ..., status: _Optional[_Union[RestoreSnapshotStatusProto.Status, str]] = ...) -> None: ...

class RestoreSnapshotCommand(_message.Message):
    __slots__ = ("snapshot_file",)
    SNAPSHOT_FILE_FIELD_NUMBER: _ClassVar[int]
    snapshot_file: str
    def __init__(self, snapshot_file: _Optional[str] = ...) -> None: ...
