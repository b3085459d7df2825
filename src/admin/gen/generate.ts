import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';

/**
 * Builds `descriptors.binpb`: the exact FileDescriptorSet (with doc comments) of every service the
 * admin server offers — AdminService with the well-known types it imports, grpc.health.v1 and
 * both server reflection versions — and of the google.rpc error details it sends, compiled by
 * `buf` from the .proto sources. The server loads
 * its service definitions from it and serves it through reflection, so `grpcurl describe` shows
 * the documented API without a proto file, and the running code needs no .proto at all.
 *
 * `node src/admin/gen/generate.ts` rewrites it; `--check` fails when it is stale.
 */

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('../../../', import.meta.url));
export const descriptorSetFile = fileURLToPath(new URL('./descriptors.binpb', import.meta.url));

/** `buf build` of each source as a FileDescriptorSet, merged (concatenated sets merge). */
export function buildDescriptorSet(): Buffer {
  const health = dirname(
    dirname(dirname(require.resolve('grpc-health-check/proto/health/v1/health.proto'))),
  );
  const reflection = join(dirname(require.resolve('@grpc/reflection')), '..', 'proto');
  const inputs: string[][] = [
    ['proto', '--path', 'proto/meshkeeper/admin'],
    [health],
    [reflection, '--path', join(reflection, 'grpc', 'reflection')],
    // google.rpc.BadRequest, ErrorInfo, ResourceInfo: the error details, for clients to decode.
    [fileURLToPath(new URL('./googleapis', import.meta.url))],
  ];
  const buf = join(root, 'node_modules', '.bin', 'buf');
  const merged = fromBinary(
    FileDescriptorSetSchema,
    Buffer.concat(
      inputs.map((args) =>
        execFileSync(buf, ['build', ...args, '--as-file-descriptor-set', '-o', '-'], {
          cwd: root,
          maxBuffer: 16 * 1024 * 1024,
        }),
      ),
    ),
  );
  // Each build brings the well-known types it imports: keep one copy of each file.
  const seen = new Set<string>();
  const file = merged.file.filter((f) => !seen.has(f.name) && seen.add(f.name) !== undefined);
  return Buffer.from(toBinary(FileDescriptorSetSchema, create(FileDescriptorSetSchema, { file })));
}

if (import.meta.main) {
  const built = buildDescriptorSet();
  if (process.argv.includes('--check')) {
    if (!built.equals(readFileSync(descriptorSetFile))) {
      process.stderr.write(`${descriptorSetFile} is stale: run node src/admin/gen/generate.ts\n`);
      process.exit(1);
    }
    process.stdout.write('admin descriptors are current\n');
  } else {
    writeFileSync(descriptorSetFile, built);
    process.stdout.write(`wrote ${descriptorSetFile} (${built.length} bytes)\n`);
  }
}
