"""Real grpcurl, no proto files: everything it learns comes from server reflection."""

from __future__ import annotations

import json
import subprocess

from tests.services.test_status import DOCUMENTED_KEYS


def grpcurl_run(grpcurl: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([grpcurl, "-plaintext", *args], capture_output=True, text=True, timeout=30)


def test_list_shows_every_service_with_health_and_reflection(grpcurl, served_flow):
    result = grpcurl_run(grpcurl, served_flow.addresses["gateway"], "list")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
        "jina.JinaDiscoverEndpointsRPC",
        "jina.JinaGatewayDryRunRPC",
        "jina.JinaInfoRPC",
        "jina.JinaRPC",
        "jina.JinaSingleDataRequestRPC",
    ]


def test_describe_jina_rpc(grpcurl, served_flow):
    result = grpcurl_run(grpcurl, served_flow.addresses["gateway"], "describe", "jina.JinaRPC")
    assert result.returncode == 0, result.stderr
    assert "rpc Call ( stream .jina.DataRequestProto ) returns ( stream .jina.DataRequestProto );" in result.stdout
    result = grpcurl_run(grpcurl, served_flow.addresses["gateway"], "describe", "docarray.DocumentProto")
    assert "map<string, .docarray.NamedScoreProto> scores = 18;" in result.stdout


def test_status_of_gateway_and_of_an_executor(grpcurl, served_flow):
    for name in ("gateway", "appender"):
        result = grpcurl_run(grpcurl, served_flow.addresses[name], "jina.JinaInfoRPC/_status")
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        assert DOCUMENTED_KEYS <= set(report["jina"])
        assert report["envs"]["JINA_AUTH_TOKEN"] in ("(unset)", "(set)")


def test_health_check_serving(grpcurl, served_flow):
    address = served_flow.addresses["gateway"]
    result = grpcurl_run(grpcurl, address, "grpc.health.v1.Health/Check")
    assert json.loads(result.stdout) == {"status": "SERVING"}
    result = grpcurl_run(grpcurl, "-d", '{"service": "jina.JinaRPC"}', address, "grpc.health.v1.Health/Check")
    assert json.loads(result.stdout) == {"status": "SERVING"}
    result = grpcurl_run(grpcurl, "-d", '{"service": "nosuch"}', address, "grpc.health.v1.Health/Check")
    assert result.returncode != 0 and "NotFound" in result.stdout + result.stderr


def test_process_single_data_with_a_text_document(grpcurl, served_flow):
    body = '{"header":{"execEndpoint":"/"},"data":{"docs":{"docs":[{"id":"d1","text":"hello"}]}}}'
    result = grpcurl_run(
        grpcurl, "-d", body, served_flow.addresses["gateway"], "jina.JinaSingleDataRequestRPC/process_single_data"
    )
    assert result.returncode == 0, result.stderr
    response = json.loads(result.stdout)
    assert response["data"]["docs"]["docs"] == [{"id": "d1", "text": "hello!", "tags": {"passed_failing": True}}]
    assert [r["executor"] for r in response["routes"]] == ["gateway", "appender", "failing"]
    assert all("start_time" in r and "end_time" in r for r in response["routes"])


def test_call_stream_and_executor_error_in_band(grpcurl, served_flow):
    body = (
        '{"header":{"requestId":"r1","execEndpoint":"/"},"data":{"docs":{"docs":[{"text":"a"}]}}}'
        '{"header":{"requestId":"r2","execEndpoint":"/fail"},"data":{"docs":{"docs":[{"text":"b"}]}}}'
    )
    result = grpcurl_run(grpcurl, "-d", body, served_flow.addresses["gateway"], "jina.JinaRPC/Call")
    assert result.returncode == 0, result.stderr
    decoder = json.JSONDecoder()
    responses, text = [], result.stdout.strip()
    while text:
        obj, end = decoder.raw_decode(text)
        responses.append(obj)
        text = text[end:].strip()
    by_id = {r["header"]["request_id"]: r for r in responses}
    assert by_id["r1"]["data"]["docs"]["docs"][0]["text"] == "a!"
    assert by_id["r2"]["header"]["status"]["code"] == "ERROR"
    assert by_id["r2"]["header"]["status"]["exception"]["executor"] == "failing"


def test_endpoint_discovery_and_dry_run(grpcurl, served_flow):
    address = served_flow.addresses["gateway"]
    result = grpcurl_run(grpcurl, address, "jina.JinaDiscoverEndpointsRPC/endpoint_discovery")
    assert {"/default", "/fail"} <= set(json.loads(result.stdout)["endpoints"])
    result = grpcurl_run(grpcurl, address, "jina.JinaGatewayDryRunRPC/dry_run")
    assert result.returncode == 0 and json.loads(result.stdout) == {}
