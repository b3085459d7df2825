import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import {
  badRequestType,
  decodeRpcStatus,
  encodeRpcStatus,
  type RpcStatus,
} from '../../../src/admin/status-details.ts';

test('status details: BadRequest, ErrorInfo and ResourceInfo survive a round trip', () => {
  const status: RpcStatus = {
    code: 3,
    message: 'min: too big',
    details: [
      {
        type: 'bad_request',
        fieldViolations: [
          {
            field: 'min',
            description: 'min (5) must not exceed expected (3)',
            reason: 'MIN_ABOVE_EXPECTED',
          },
          { field: 'page_size', description: 'too large' },
        ],
      },
      {
        type: 'error_info',
        reason: 'NOT_TRUSTED',
        domain: 'meshkeeper.admin.v1',
        metadata: { point: '127.0.0.1:9' },
      },
      {
        type: 'resource_info',
        resourceType: 'peer',
        resourceName: 'mkx',
        description: 'no live peer',
      },
    ],
  };
  assert.deepEqual(decodeRpcStatus(encodeRpcStatus(status)), status);
});

test('status details: an unknown detail type is kept as its type URL, known ones still decode', () => {
  const w = new BinaryWriter();
  w.tag(1, WireType.Varint).int32(9);
  w.tag(3, WireType.LengthDelimited).fork();
  w.tag(1, WireType.LengthDelimited).string('type.googleapis.com/google.rpc.RetryInfo');
  w.tag(2, WireType.LengthDelimited).bytes(new Uint8Array([8, 1]));
  w.join();
  w.tag(3, WireType.LengthDelimited).fork();
  w.tag(1, WireType.LengthDelimited).string(badRequestType);
  w.tag(2, WireType.LengthDelimited).bytes(new Uint8Array());
  w.join();
  assert.deepEqual(decodeRpcStatus(w.finish()), {
    code: 9,
    message: '',
    details: [
      { type: 'unknown', typeUrl: 'type.googleapis.com/google.rpc.RetryInfo' },
      { type: 'bad_request', fieldViolations: [] },
    ],
  });
});

test('status details: bytes that are not a google.rpc.Status decode to undefined, never throw', () => {
  assert.equal(decodeRpcStatus(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])), undefined);
  assert.equal(decodeRpcStatus(new Uint8Array([0xff])), undefined);
});
