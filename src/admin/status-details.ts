import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';

/**
 * The rich error model of gRPC (https://google.aip.dev/193): a `google.rpc.Status` in the
 * `grpc-status-details-bin` trailer whose `details` carry typed messages. Only the three detail
 * types the admin API sends are known here, encoded with @bufbuild/protobuf's wire codec
 * (field numbers from googleapis' google/rpc/status.proto and error_details.proto); any other
 * detail decodes as `unknown` with its type URL, so a newer server never breaks an older client.
 */

export const statusDetailsKey = 'grpc-status-details-bin';

const typePrefix = 'type.googleapis.com/';
export const badRequestType = `${typePrefix}google.rpc.BadRequest`;
export const errorInfoType = `${typePrefix}google.rpc.ErrorInfo`;
export const resourceInfoType = `${typePrefix}google.rpc.ResourceInfo`;

/** `google.rpc.BadRequest.FieldViolation`. */
export interface FieldViolation {
  /** Path of the offending request field, proto names (`page_size`, `target.peer_id`). */
  field: string;
  description: string;
  /** A stable UPPER_SNAKE code for scripts (`MIN_ABOVE_EXPECTED`); empty when none. */
  reason?: string;
}

export type ErrorDetail =
  | { type: 'bad_request'; fieldViolations: FieldViolation[] }
  | { type: 'error_info'; reason: string; domain: string; metadata: Record<string, string> }
  | {
      type: 'resource_info';
      resourceType: string;
      resourceName: string;
      description: string;
    }
  | { type: 'unknown'; typeUrl: string };

export interface RpcStatus {
  code: number;
  message: string;
  details: ErrorDetail[];
}

/** Encodes a google.rpc.Status with its details. */
export function encodeRpcStatus(status: RpcStatus): Uint8Array {
  const w = new BinaryWriter();
  if (status.code !== 0) w.tag(1, WireType.Varint).int32(status.code);
  if (status.message !== '') w.tag(2, WireType.LengthDelimited).string(status.message);
  for (const detail of status.details) {
    const encoded = encodeDetail(detail);
    if (encoded === undefined) continue;
    w.tag(3, WireType.LengthDelimited).fork();
    w.tag(1, WireType.LengthDelimited).string(encoded.typeUrl);
    w.tag(2, WireType.LengthDelimited).bytes(encoded.value);
    w.join();
  }
  return w.finish();
}

/** Decodes a google.rpc.Status; undefined when the bytes are not one. Never throws. */
export function decodeRpcStatus(bytes: Uint8Array): RpcStatus | undefined {
  try {
    const status: RpcStatus = { code: 0, message: '', details: [] };
    readFields(bytes, (field, type, r) => {
      if (field === 1 && type === WireType.Varint) status.code = r.int32();
      else if (field === 2 && type === WireType.LengthDelimited) status.message = r.string();
      else if (field === 3 && type === WireType.LengthDelimited) {
        status.details.push(decodeAny(r.bytes()));
      } else return false;
      return true;
    });
    return status;
  } catch {
    return undefined;
  }
}

function encodeDetail(detail: ErrorDetail): { typeUrl: string; value: Uint8Array } | undefined {
  const w = new BinaryWriter();
  switch (detail.type) {
    case 'bad_request':
      for (const v of detail.fieldViolations) {
        w.tag(1, WireType.LengthDelimited).fork();
        w.tag(1, WireType.LengthDelimited).string(v.field);
        w.tag(2, WireType.LengthDelimited).string(v.description);
        if (v.reason !== undefined && v.reason !== '')
          w.tag(3, WireType.LengthDelimited).string(v.reason);
        w.join();
      }
      return { typeUrl: badRequestType, value: w.finish() };
    case 'error_info':
      w.tag(1, WireType.LengthDelimited).string(detail.reason);
      w.tag(2, WireType.LengthDelimited).string(detail.domain);
      for (const [key, value] of Object.entries(detail.metadata)) {
        w.tag(3, WireType.LengthDelimited).fork();
        w.tag(1, WireType.LengthDelimited).string(key);
        w.tag(2, WireType.LengthDelimited).string(value);
        w.join();
      }
      return { typeUrl: errorInfoType, value: w.finish() };
    case 'resource_info':
      w.tag(1, WireType.LengthDelimited).string(detail.resourceType);
      w.tag(2, WireType.LengthDelimited).string(detail.resourceName);
      w.tag(4, WireType.LengthDelimited).string(detail.description);
      return { typeUrl: resourceInfoType, value: w.finish() };
    case 'unknown':
      return undefined;
    default: {
      const never: never = detail;
      return never;
    }
  }
}

function decodeAny(bytes: Uint8Array): ErrorDetail {
  let typeUrl = '';
  let value: Uint8Array = new Uint8Array();
  readFields(bytes, (field, type, r) => {
    if (field === 1 && type === WireType.LengthDelimited) typeUrl = r.string();
    else if (field === 2 && type === WireType.LengthDelimited) value = r.bytes();
    else return false;
    return true;
  });
  switch (typeUrl) {
    case badRequestType:
      return decodeBadRequest(value);
    case errorInfoType:
      return decodeErrorInfo(value);
    case resourceInfoType:
      return decodeResourceInfo(value);
    default:
      return { type: 'unknown', typeUrl };
  }
}

function decodeBadRequest(bytes: Uint8Array): ErrorDetail {
  const fieldViolations: FieldViolation[] = [];
  readFields(bytes, (field, type, r) => {
    if (field !== 1 || type !== WireType.LengthDelimited) return false;
    const v: FieldViolation = { field: '', description: '' };
    readFields(r.bytes(), (f, t, rr) => {
      if (t !== WireType.LengthDelimited) return false;
      if (f === 1) v.field = rr.string();
      else if (f === 2) v.description = rr.string();
      else if (f === 3) v.reason = rr.string();
      else return false;
      return true;
    });
    fieldViolations.push(v);
    return true;
  });
  return { type: 'bad_request', fieldViolations };
}

function decodeErrorInfo(bytes: Uint8Array): ErrorDetail {
  const info = {
    type: 'error_info' as const,
    reason: '',
    domain: '',
    metadata: {} as Record<string, string>,
  };
  readFields(bytes, (field, type, r) => {
    if (type !== WireType.LengthDelimited) return false;
    if (field === 1) info.reason = r.string();
    else if (field === 2) info.domain = r.string();
    else if (field === 3) {
      let key = '';
      let value = '';
      readFields(r.bytes(), (f, t, rr) => {
        if (t !== WireType.LengthDelimited) return false;
        if (f === 1) key = rr.string();
        else if (f === 2) value = rr.string();
        else return false;
        return true;
      });
      info.metadata[key] = value;
    } else return false;
    return true;
  });
  return info;
}

function decodeResourceInfo(bytes: Uint8Array): ErrorDetail {
  const info = {
    type: 'resource_info' as const,
    resourceType: '',
    resourceName: '',
    description: '',
  };
  readFields(bytes, (field, type, r) => {
    if (type !== WireType.LengthDelimited) return false;
    if (field === 1) info.resourceType = r.string();
    else if (field === 2) info.resourceName = r.string();
    else if (field === 4) info.description = r.string();
    else return false;
    return true;
  });
  return info;
}

/** Calls `read` for each field; a field it does not take (returns false) is skipped. */
function readFields(
  bytes: Uint8Array,
  read: (field: number, type: WireType, reader: BinaryReader) => boolean,
): void {
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const [field, type] = r.tag();
    if (!read(field, type, r)) r.skip(type, field);
  }
}
