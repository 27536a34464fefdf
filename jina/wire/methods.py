"""The gRPC services and method paths of the wire, read from the generated stubs' descriptors."""

from __future__ import annotations

from google.protobuf.descriptor import ServiceDescriptor
from grpc_health.v1 import health_pb2

from jina.proto import jina_pb2


def method_path(service: ServiceDescriptor, method: str) -> str:
    """`/package.Service/Method`, the path gRPC calls a method by; a KeyError when the service has no such method."""
    return f"/{service.full_name}/{service.methods_by_name[method].name}"


def split_path(path: str) -> tuple[str, str]:
    """(`package.Service`, `Method`) of a method path, what a generic handler is registered with."""
    service, _, method = path.lstrip("/").partition("/")
    return service, method


_JINA = jina_pb2.DESCRIPTOR.services_by_name
_HEALTH = health_pb2.DESCRIPTOR.services_by_name["Health"]

# services by their full names: what health checks and server reflection list
JINA_RPC = _JINA["JinaRPC"].full_name
JINA_SINGLE_DATA_REQUEST_RPC = _JINA["JinaSingleDataRequestRPC"].full_name
JINA_DATA_REQUEST_RPC = _JINA["JinaDataRequestRPC"].full_name
JINA_DISCOVER_ENDPOINTS_RPC = _JINA["JinaDiscoverEndpointsRPC"].full_name
JINA_GATEWAY_DRY_RUN_RPC = _JINA["JinaGatewayDryRunRPC"].full_name
JINA_INFO_RPC = _JINA["JinaInfoRPC"].full_name
JINA_SINGLE_DOCUMENT_REQUEST_RPC = _JINA["JinaSingleDocumentRequestRPC"].full_name
HEALTH = _HEALTH.full_name

# method paths
CALL = method_path(_JINA["JinaRPC"], "Call")
PROCESS_SINGLE_DATA = method_path(_JINA["JinaSingleDataRequestRPC"], "process_single_data")
PROCESS_DATA = method_path(_JINA["JinaDataRequestRPC"], "process_data")
ENDPOINT_DISCOVERY = method_path(_JINA["JinaDiscoverEndpointsRPC"], "endpoint_discovery")
DRY_RUN = method_path(_JINA["JinaGatewayDryRunRPC"], "dry_run")
STATUS = method_path(_JINA["JinaInfoRPC"], "_status")
STREAM_DOC = method_path(_JINA["JinaSingleDocumentRequestRPC"], "stream_doc")
HEALTH_CHECK = method_path(_HEALTH, "Check")
