import { readFileSync } from 'node:fs';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import {
  type GrpcObject,
  loadPackageDefinition,
  type ServiceClientConstructor,
  type ServiceDefinition,
} from '@grpc/grpc-js';
import {
  loadFileDescriptorSetFromBuffer,
  type Options,
  type PackageDefinition,
} from '@grpc/proto-loader';

export const adminServiceName = 'meshkeeper.admin.v1.AdminService';
export const healthServiceName = 'grpc.health.v1.Health';

/** Built from proto/meshkeeper/admin/v1/admin.proto and friends by gen/generate.ts. */
const descriptorSetFile = new URL('./gen/descriptors.binpb', import.meta.url);

/**
 * How messages look in JavaScript (both ends): fields by their proto names (`peer_id`, as the
 * field violations name them), enums as their names, 64-bit integers as numbers (every one of
 * ours is a count or a time that fits), repeated fields always arrays, and no defaults filled
 * in, so that a handler can tell an absent message or `optional` field from a zero one. `oneofs`
 * adds the name of the member set (e.g. `target: 'peer_id'`).
 */
export const loaderOptions: Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: false,
  arrays: true,
  oneofs: true,
};

let definitions: PackageDefinition | undefined;
let reflected: PackageDefinition | undefined;

/**
 * Every service the server offers — admin, health and both reflection versions — with exact
 * descriptors (buf-compiled, comments included): for `addService` and for server reflection.
 */
export function packageDefinition(): PackageDefinition {
  definitions ??= loadFileDescriptorSetFromBuffer(readFileSync(descriptorSetFile), loaderOptions);
  return definitions;
}

/**
 * The same services for @grpc/reflection, with the descriptors exactly as buf wrote them:
 * proto-loader rebuilds descriptors through protobufjs, which drops imports and comments and
 * misnames map entries, and grpcurl then cannot resolve them. Reflection only reads the
 * `fileDescriptorProtos` of each entry, so one entry holding every file is enough.
 */
export function reflectionPackageDefinition(): PackageDefinition {
  if (reflected !== undefined) return reflected;
  const set = fromBinary(FileDescriptorSetSchema, readFileSync(descriptorSetFile));
  const seen = new Set<string>();
  const files: Buffer[] = [];
  for (const file of set.file) {
    if (seen.has(file.name)) continue;
    seen.add(file.name);
    files.push(Buffer.from(toBinary(FileDescriptorProtoSchema, file)));
  }
  reflected = {
    [adminServiceName]: { fileDescriptorProtos: files },
  } as unknown as PackageDefinition;
  return reflected;
}

/** The AdminService definition, for `server.addService`. */
export function adminServiceDefinition(): ServiceDefinition {
  const definition = packageDefinition()[adminServiceName];
  if (definition === undefined || 'format' in definition) {
    throw new Error(`${adminServiceName} missing from ${descriptorSetFile.pathname}`);
  }
  return definition as ServiceDefinition;
}

/** The generic client constructor of AdminService. */
export function adminClientConstructor(): ServiceClientConstructor {
  const grpcObject = loadPackageDefinition(packageDefinition());
  const ctor = lookup(grpcObject, adminServiceName);
  if (typeof ctor !== 'function') throw new Error(`${adminServiceName} has no client`);
  return ctor as ServiceClientConstructor;
}

function lookup(root: GrpcObject, name: string): unknown {
  let node: unknown = root;
  for (const part of name.split('.')) {
    if (typeof node !== 'object' && typeof node !== 'function') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}
