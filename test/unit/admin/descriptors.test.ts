import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { buildDescriptorSet, descriptorSetFile } from '../../../src/admin/gen/generate.ts';
import {
  adminServiceDefinition,
  packageDefinition,
  reflectionPackageDefinition,
} from '../../../src/admin/proto.ts';

test('descriptors.binpb is what buf builds from the .proto sources (run node src/admin/gen/generate.ts)', () => {
  assert.ok(buildDescriptorSet().equals(readFileSync(descriptorSetFile)), 'stale: regenerate it');
});

test('the descriptor set defines AdminService with its 16 methods, health and both reflection versions', () => {
  assert.deepEqual(
    Object.keys(adminServiceDefinition()).sort(),
    [
      'Ban',
      'Connect',
      'Disconnect',
      'GetBounds',
      'GetStatus',
      'ListPeers',
      'ListPoints',
      'Maintain',
      'Publish',
      'SetBounds',
      'SetTargets',
      'Shutdown',
      'Trust',
      'Unban',
      'Untrust',
      'WatchEvents',
    ].sort(),
  );
  const names = Object.keys(packageDefinition());
  for (const service of [
    'grpc.health.v1.Health',
    'grpc.reflection.v1.ServerReflection',
    'grpc.reflection.v1alpha.ServerReflection',
  ]) {
    assert.ok(names.includes(service), service);
  }
  const files = Object.values(reflectionPackageDefinition()).flatMap(
    (d) => (d as { fileDescriptorProtos?: Buffer[] }).fileDescriptorProtos ?? [],
  );
  assert.equal(
    files.length,
    7,
    'admin, duration, timestamp, health, reflection v1 and v1alpha, google.rpc error details',
  );
});

test('messages round-trip with proto field names and oneof member names', () => {
  const method = adminServiceDefinition().Disconnect;
  assert.ok(method !== undefined);
  const bytes = method.requestSerialize({ peer_id: 'mkx' });
  assert.deepEqual(method.requestDeserialize(bytes), { peer_id: 'mkx', target: 'peer_id' });
});
