"""The Jina wire in one place: method paths, metadata keys, frames, error statuses, parameters.

Import from here (`from jina.wire import CALL, set_error`); the modules below only sort the names.
"""

from __future__ import annotations

from jina.wire.errors import NETWORK_ERROR, describe_error, error_status, set_error
from jina.wire.frames import END_OF_INPUT
from jina.wire.ids import new_request_id
from jina.wire.metadata import ERROR_TRAILER, IN_ORDER_KEY, PREFETCH_KEY
from jina.wire.methods import (
    CALL,
    DRY_RUN,
    ENDPOINT_DISCOVERY,
    HEALTH,
    HEALTH_CHECK,
    JINA_DATA_REQUEST_RPC,
    JINA_DISCOVER_ENDPOINTS_RPC,
    JINA_GATEWAY_DRY_RUN_RPC,
    JINA_INFO_RPC,
    JINA_RPC,
    JINA_SINGLE_DATA_REQUEST_RPC,
    JINA_SINGLE_DOCUMENT_REQUEST_RPC,
    PROCESS_DATA,
    PROCESS_SINGLE_DATA,
    STATUS,
    STREAM_DOC,
    method_path,
    split_path,
)
from jina.wire.parameters import RESULTS_KEY, dict_to_struct, struct_to_dict

__all__ = [
    "CALL",
    "DRY_RUN",
    "ENDPOINT_DISCOVERY",
    "END_OF_INPUT",
    "ERROR_TRAILER",
    "HEALTH",
    "HEALTH_CHECK",
    "IN_ORDER_KEY",
    "JINA_DATA_REQUEST_RPC",
    "JINA_DISCOVER_ENDPOINTS_RPC",
    "JINA_GATEWAY_DRY_RUN_RPC",
    "JINA_INFO_RPC",
    "JINA_RPC",
    "JINA_SINGLE_DATA_REQUEST_RPC",
    "JINA_SINGLE_DOCUMENT_REQUEST_RPC",
    "NETWORK_ERROR",
    "PREFETCH_KEY",
    "PROCESS_DATA",
    "PROCESS_SINGLE_DATA",
    "RESULTS_KEY",
    "STATUS",
    "STREAM_DOC",
    "describe_error",
    "dict_to_struct",
    "error_status",
    "method_path",
    "new_request_id",
    "set_error",
    "split_path",
    "struct_to_dict",
]
