// A Node.js client of the gateway, built at run time from protos/ (no generated code, no reflection).
// Usage: node client.js HOST:PORT   -> prints one JSON object with what each call returned.
'use strict';

const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTOS = path.resolve(__dirname, '..', '..', '..', 'protos');
const definition = protoLoader.loadSync(path.join(PROTOS, 'jina.proto'), {
  includeDirs: [PROTOS],
  keepCase: true,
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
});
const jina = grpc.loadPackageDefinition(definition).jina;
const target = process.argv[2];
const credentials = grpc.credentials.createInsecure();

function unary(client, method, request) {
  return new Promise((resolve, reject) => {
    client[method](request, (err, response) => (err ? reject(err) : resolve(response)));
  });
}

function textRequest(id, text, endpoint) {
  return {
    header: { request_id: id, exec_endpoint: endpoint || '/' },
    data: { docs: { docs: [{ id: `doc-${id}`, text }] } },
  };
}

function stream(client, requests) {
  return new Promise((resolve, reject) => {
    const call = client.Call();
    const responses = [];
    call.on('data', (r) => responses.push(r));
    call.on('error', reject);
    call.on('end', () => resolve(responses));
    for (const r of requests) call.write(r);
    call.end();
  });
}

async function main() {
  const info = new jina.JinaInfoRPC(target, credentials);
  const single = new jina.JinaSingleDataRequestRPC(target, credentials);
  const rpc = new jina.JinaRPC(target, credentials);

  const status = await unary(info, '_status', {});
  const processed = await unary(single, 'process_single_data', textRequest('u1', 'from node'));
  const streamed = await stream(rpc, [textRequest('s1', 'one'), textRequest('s2', 'two'), textRequest('s3', 'three')]);

  const texts = (r) => r.data.docs.docs.map((d) => d.text);
  console.log(JSON.stringify({
    status_keys: Object.keys(status.jina).sort(),
    jina_version: status.jina.jina,
    unary: { request_id: processed.header.request_id, texts: texts(processed), routes: processed.routes.map((r) => r.executor) },
    stream: streamed.map((r) => ({ request_id: r.header.request_id, texts: texts(r) })),
  }));
  info.close();
  single.close();
  rpc.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
